#include "gateway/store/store.h"

#include <libpq-fe.h>
#include <unistd.h>

#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/files.h"
#include "gateway/store/postgres/connection.h"
#include "gateway/store/postgres/postgres_store.h"
#include "gateway/store/sqlite/sqlite_store.h"

namespace safeshare::gateway {

std::vector<uint64_t> FirstHandOvers(const std::vector<StoredMessage>& messages) {
  std::vector<uint64_t> out;
  for (const StoredMessage& m : messages) {
    if (!m.first_delivered_time) out.push_back(m.sequence);
  }
  return out;
}

absl::Status MailboxStore::CommitAndWait(Work work, CommitInfo* info) {
  absl::Notification done;
  absl::Status result;
  Commit(std::move(work), [&](const absl::Status& st, const CommitInfo& ci) {
    result = st;
    if (info != nullptr) *info = ci;
    done.Notify();
  });
  done.WaitForNotification();
  return result;
}

absl::StatusOr<InsertResult> MailboxStore::InsertMessage(const StoredMessage& m) {
  absl::StatusOr<InsertResult> out = absl::InternalError("not run");
  absl::Status st = CommitAndWait([&](StoreTransaction& tx) {
    out = tx.InsertMessage(m);
    return out.status();
  });
  if (!st.ok()) return st;
  return out;
}

absl::StatusOr<std::vector<StoredMessage>> MailboxStore::FetchForRecipient(
    const std::string& recipient, uint64_t after_sequence, int limit, absl::Time now) {
  auto out = PendingForRecipient(recipient, after_sequence, limit);
  if (!out.ok()) return out.status();
  const std::vector<uint64_t> first = FirstHandOvers(*out);
  std::vector<StoredMessage> marked;
  absl::Status st = CommitAndWait([&](StoreTransaction& tx) {
    auto done = tx.MarkDelivered(recipient, first, now);
    if (done.ok()) marked = std::move(*done);
    return done.status();
  });
  if (!st.ok()) return st;
  for (StoredMessage& m : *out) {
    for (const StoredMessage& done : marked) {
      if (done.sequence == m.sequence) m = done;
    }
  }
  return out;
}

absl::StatusOr<StoredMessage> MailboxStore::Acknowledge(const std::string& recipient,
                                                        const std::string& message_id,
                                                        absl::Time now) {
  absl::StatusOr<StoredMessage> out = absl::InternalError("not run");
  absl::Status st = CommitAndWait([&](StoreTransaction& tx) {
    out = tx.Acknowledge(recipient, message_id, now);
    return out.status();
  });
  if (!st.ok()) return st;
  return out;
}

absl::StatusOr<StoredMessage> MailboxStore::RefuseContent(
    const std::string& recipient, const std::string& message_id,
    safeshare::v1::ContentRefusalReason reason, const std::string& detail, absl::Time now) {
  absl::StatusOr<StoredMessage> out = absl::InternalError("not run");
  absl::Status st = CommitAndWait([&](StoreTransaction& tx) {
    out = tx.RefuseContent(recipient, message_id, reason, detail, now);
    return out.status();
  });
  if (!st.ok()) return st;
  return out;
}

namespace {

constexpr absl::string_view kSqlite = "sqlite://";

bool IsPostgresUri(const std::string& uri) {
  return absl::StartsWith(uri, "postgresql://") || absl::StartsWith(uri, "postgres://");
}

// A sqlite:// URI's file and its one option, a cap on the database size in
// pages (0: none).
absl::StatusOr<std::pair<std::string, int64_t>> ParseSqliteUri(const std::string& uri) {
  std::string path = uri.substr(kSqlite.size());
  int64_t max_pages = 0;
  if (auto q = path.find('?'); q != std::string::npos) {
    const std::string option = path.substr(q + 1);
    path.resize(q);
    if (!absl::StartsWith(option, "max_pages=") ||
        !absl::SimpleAtoi(option.substr(10), &max_pages) || max_pages <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("store: unknown option '", option, "' (the only option is max_pages=N)"));
    }
  }
  if (path.empty()) return absl::InvalidArgumentError("store: sqlite:// URI names no file");
  return std::make_pair(path, max_pages);
}

absl::Status UnsupportedScheme(const std::string& uri) {
  // Not echoed whole: a database URI may carry a password.
  return absl::InvalidArgumentError(
      absl::StrCat("store: unsupported store URI scheme '", uri.substr(0, uri.find(':')),
                   "'; use sqlite:///path/to/file.db or postgresql://host/db"));
}

}  // namespace

absl::Status ProbeStore(const std::string& uri) {
  if (absl::StartsWith(uri, kSqlite)) {
    auto parsed = ParseSqliteUri(uri);
    if (!parsed.ok()) return parsed.status();
    const std::string& path = parsed->first;
    if (std::filesystem::exists(path)) {
      return access(path.c_str(), R_OK | W_OK) == 0
                 ? absl::OkStatus()
                 : absl::PermissionDeniedError(
                       "store: the file is not readable and writable by this user");
    }
    const std::string dir = DirectoryOf(path);
    return access(dir.c_str(), W_OK) == 0 ? absl::OkStatus()
                                          : absl::FailedPreconditionError(absl::StrCat(
                                                "store: the directory ", dir,
                                                " does not exist or is not writable by this user"));
  }
  if (IsPostgresUri(uri)) {
    auto conn = pg::Connect(uri);
    if (!conn.ok()) return conn.status();
    PQfinish(*conn);
    return absl::OkStatus();
  }
  return UnsupportedScheme(uri);
}

absl::StatusOr<std::string> SqliteStoreFile(const std::string& uri) {
  if (IsPostgresUri(uri)) {
    return absl::FailedPreconditionError(
        "store: a PostgreSQL store is backed up with pg_basebackup and WAL archiving and "
        "restored to a point in time (docs/operator-guide.md, \"Backup and restore\"); "
        "backup and restore here are for the embedded SQLite store");
  }
  if (!absl::StartsWith(uri, kSqlite)) return UnsupportedScheme(uri);
  auto parsed = ParseSqliteUri(uri);
  if (!parsed.ok()) return parsed.status();
  return parsed->first;
}

absl::StatusOr<std::unique_ptr<Store>> OpenStore(const std::string& uri) {
  if (absl::StartsWith(uri, kSqlite)) {
    auto parsed = ParseSqliteUri(uri);
    if (!parsed.ok()) return parsed.status();
    auto store = SqliteStore::Open(parsed->first, parsed->second);
    if (!store.ok()) return store.status();
    return std::unique_ptr<Store>(std::move(*store));
  }
  if (IsPostgresUri(uri)) {
    auto store = PostgresStore::Open(uri);
    if (!store.ok()) return store.status();
    return std::unique_ptr<Store>(std::move(*store));
  }
  return UnsupportedScheme(uri);
}

std::string RedactStoreUri(const std::string& uri) {
  std::string out = uri.substr(0, uri.find('?'));
  const size_t scheme = out.find("://");
  if (scheme == std::string::npos) return out;
  const size_t start = scheme + 3;
  const size_t at = out.find('@', start);
  if (at == std::string::npos || out.find('/', start) < at) return out;
  const size_t colon = out.find(':', start);
  if (colon != std::string::npos && colon < at) out.replace(colon, at - colon, ":***");
  return out;
}

}  // namespace safeshare::gateway
