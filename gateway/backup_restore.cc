#include "gateway/backup_restore.h"

#include <cstdio>
#include <filesystem>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/files.h"
#include "gateway/store/sqlite/backup.h"
#include "gateway/store/store.h"
#include "gateway/text_format_loader.h"
#include "safeshare/v1/directory.pb.h"
#include "verification/audit_verifier.h"

namespace safeshare::gateway {
namespace {

namespace fs = std::filesystem;

absl::StatusOr<safeshare::v1::AuditLogIdentity> AuditLogOf(
    const safeshare::v1::GatewayConfig& config) {
  safeshare::v1::Federation federation;
  if (auto st = LoadTextProtoFile(config.federation_file(), &federation); !st.ok()) return st;
  return federation.audit_log();
}

// The copy's file checks and its audit log, recomputed from every record and
// checked against each signed checkpoint under the federation's key.
absl::StatusOr<std::string> Verify(const std::string& path,
                                   const safeshare::v1::AuditLogIdentity& log) {
  auto facts = CheckSqliteFile(path);
  if (!facts.ok()) return facts.status();
  auto verified = verification::VerifyAuditDatabase(path, log);
  if (!verified.ok()) {
    return absl::DataLossError(
        absl::StrCat("the audit log in ", path, " does not verify: ", verified.status().message()));
  }
  return absl::StrCat(facts->messages, " messages (", facts->acknowledged,
                      " acknowledged), schema version ", facts->schema_version,
                      "; audit log verified: ", verified->records, " records, ",
                      verified->checkpoints, " signed checkpoints, tree size ", verified->tree_size,
                      ", root ", verified->root_hex);
}

// The store file and its WAL companions, moved to `aside` + the same suffix.
absl::Status MoveAside(const std::string& path, const std::string& aside) {
  for (const char* suffix : {"", "-wal", "-shm"}) {
    const std::string from = path + suffix;
    if (!fs::exists(from)) continue;
    if (std::rename(from.c_str(), (aside + suffix).c_str()) != 0) {
      return absl::UnavailableError(absl::StrCat("restore: cannot move ", from, " aside"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> BackUpStore(const safeshare::v1::GatewayConfig& config,
                                        const std::string& out) {
  if (out.empty()) return absl::InvalidArgumentError("backup: --out names no file");
  auto path = SqliteStoreFile(config.store());
  if (!path.ok()) return path.status();
  auto log = AuditLogOf(config);
  if (!log.ok()) return log.status();
  if (fs::exists(out)) {
    return absl::AlreadyExistsError(
        absl::StrCat("backup: ", out, " exists; backups are never overwritten, name a new file"));
  }
  if (auto st = BackUpSqliteFile(*path, out); !st.ok()) return st;
  auto verified = Verify(out, *log);
  if (!verified.ok()) {
    // Kept: it is a faithful copy of a store whose log is broken, evidence
    // for whoever investigates.
    return absl::DataLossError(absl::StrCat("backup written to ", out,
                                            " but it is not good: ", verified.status().message()));
  }
  return absl::StrCat("backup of ", *path, " written to ", out, ": ", *verified);
}

absl::StatusOr<std::string> RestoreStore(const safeshare::v1::GatewayConfig& config,
                                         const std::string& from, bool replace, absl::Time now) {
  if (from.empty()) return absl::InvalidArgumentError("restore: --from names no backup");
  auto path = SqliteStoreFile(config.store());
  if (!path.ok()) return path.status();
  auto log = AuditLogOf(config);
  if (!log.ok()) return log.status();
  if (!fs::exists(from)) return absl::NotFoundError(absl::StrCat("restore: there is no ", from));
  const bool existing = fs::exists(*path);
  if (existing && !replace) {
    return absl::FailedPreconditionError(absl::StrCat(
        "restore: a store exists at ", *path,
        "; pass --replace to move it aside (it is kept, never deleted) and restore over it"));
  }
  // The copy made here is the file the gateway will open, so it is what is
  // verified; nothing at `path` changes unless it verifies.
  const std::string staged = *path + ".restoring";
  if (auto st = BackUpSqliteFile(from, staged); !st.ok()) return st;
  auto verified = Verify(staged, *log);
  if (!verified.ok()) {
    std::remove(staged.c_str());
    return verified.status();
  }
  std::string moved;
  {
    std::optional<StoreFileLock> lock;
    if (existing) {
      auto acquired = StoreFileLock::Acquire(*path);
      if (!acquired.ok()) {
        std::remove(staged.c_str());
        return acquired.status();
      }
      lock.emplace(*std::move(acquired));
      moved = absl::StrCat(*path, ".before-restore-",
                           absl::FormatTime("%Y%m%dT%H%M%SZ", now, absl::UTCTimeZone()));
      if (auto st = MoveAside(*path, moved); !st.ok()) {
        std::remove(staged.c_str());
        return st;
      }
    }
    if (std::rename(staged.c_str(), path->c_str()) != 0) {
      return absl::UnavailableError(absl::StrCat("restore: cannot rename ", staged, " to ", *path));
    }
  }
  if (auto st = SyncDirectory(DirectoryOf(*path)); !st.ok()) return st;
  // A backup is the log as it was: agents and witnesses that saw it longer
  // refuse it, by design, until told (docs/operator-guide.md).
  return absl::StrCat(
      "restored ", from, " to ", *path, ": ", *verified,
      moved.empty() ? "" : absl::StrCat("; the previous store is at ", moved),
      "\nMessages accepted after the backup was taken are not in it. Agents that verified "
      "the log beyond this size refuse the gateway (\"older than ... this agent verified "
      "before\") until each agency, told of the restore, deletes <identity>/key-log.textproto; "
      "witnesses that cosigned a larger log will not cosign this one. See the operator "
      "guide, \"Backup and restore\".");
}

}  // namespace safeshare::gateway
