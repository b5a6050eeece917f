#include "agents/audit_verifier.h"

#include <sqlite3.h>

#include <fstream>
#include <optional>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "safeshare/v1/audit.pb.h"
#include "transparency/checkpoint.h"
#include "transparency/merkle.h"

namespace safeshare::agents {
namespace {

using transparency::Checkpoint;

absl::Status Broken(absl::string_view what) { return absl::DataLossError(what); }

std::string Hex(absl::string_view b) { return absl::BytesToHexString(b); }

absl::StatusOr<Checkpoint> OpenCheckpoint(const std::string& note,
                                          const safeshare::v1::AuditLogIdentity& log) {
  return transparency::VerifyCheckpoint(note, log.origin(), log.public_key(), log.origin());
}

absl::Status CheckIdentity(const safeshare::v1::AuditLogIdentity& log) {
  if (log.origin().empty() || log.public_key().size() != 32) {
    return absl::InvalidArgumentError(
        "the federation file has no audit_log identity (origin and 32-byte public key)");
  }
  return absl::OkStatus();
}

// Checks one record's bytes against its position.
absl::Status CheckRecord(uint64_t index, const std::string& bytes) {
  safeshare::v1::AuditRecord record;
  if (!record.ParseFromString(bytes)) {
    return Broken(absl::StrCat("record ", index, " does not parse: it was altered"));
  }
  if (record.sequence() != index) {
    return Broken(absl::StrCat("record ", index, " carries sequence ", record.sequence(),
                               ": records were reordered, removed or replaced"));
  }
  return absl::OkStatus();
}

// Verifies the signed checkpoints (ascending) against the recomputed tree.
absl::Status CheckCheckpoints(const std::vector<std::string>& notes, transparency::MemoryTree& tree,
                              const safeshare::v1::AuditLogIdentity& log,
                              std::optional<uint64_t> first_altered, AuditVerification& out) {
  std::optional<Checkpoint> previous;
  for (const auto& note : notes) {
    auto cp = OpenCheckpoint(note, log);
    if (!cp.ok()) {
      return Broken(absl::StrCat("checkpoint #", out.checkpoints + 1, " does not verify (",
                                 cp.status().message(),
                                 "): its signature was replaced or its text altered"));
    }
    if (cp->size > tree.size()) {
      return Broken(absl::StrCat("the log is truncated: the checkpoint for size ", cp->size,
                                 " is signed, but only ", tree.size(), " records are present"));
    }
    auto root = tree.Root(cp->size);
    if (!root.ok()) return root.status();
    if (*root != cp->root_hash) {
      if (first_altered && *first_altered < cp->size) {
        return Broken(absl::StrCat("record ", *first_altered,
                                   " was altered: its bytes no longer hash to the signed tree "
                                   "(first checkpoint broken: size ",
                                   cp->size, ")"));
      }
      return Broken(
          absl::StrCat("the records do not match the checkpoint for size ", cp->size,
                       ": a record in [", previous ? previous->size : 0, ", ", cp->size,
                       ") was altered or replaced (the checkpoint before it still matches)"));
    }
    if (previous) {
      auto proof = transparency::ConsistencyProof(tree, previous->size, cp->size);
      if (!proof.ok()) return proof.status();
      if (auto st = transparency::VerifyConsistency(previous->size, cp->size, previous->root_hash,
                                                    cp->root_hash, *proof);
          !st.ok()) {
        return Broken(absl::StrCat("checkpoints ", previous->size, " and ", cp->size,
                                   " are not consistent: ", st.message()));
      }
    }
    previous = *cp;
    ++out.checkpoints;
  }
  if (first_altered) {
    return Broken(absl::StrCat("record ", *first_altered,
                               " was altered: its bytes no longer match its leaf hash"));
  }
  if (!previous && tree.size() > 0) {
    return Broken("the log has records but no signed checkpoint");
  }
  if (previous && previous->size < tree.size()) {
    return Broken(absl::StrCat("records ", previous->size, "..", tree.size() - 1,
                               " are not covered by any signed checkpoint: they were added "
                               "outside the gateway"));
  }
  if (previous) {
    out.tree_size = previous->size;
    out.root_hex = Hex(previous->root_hash);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<AuditVerification> VerifyAuditDatabase(const std::string& db_path,
                                                      const safeshare::v1::AuditLogIdentity& log) {
  if (auto st = CheckIdentity(log); !st.ok()) return st;
  sqlite3* db = nullptr;
  const std::string uri = absl::StrCat("file:", db_path, "?mode=ro");
  if (sqlite3_open_v2(uri.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, nullptr) !=
      SQLITE_OK) {
    std::string why = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return absl::NotFoundError(absl::StrCat("cannot open ", db_path, ": ", why));
  }
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> closer(db, sqlite3_close);
  AuditVerification out;
  transparency::MemoryTree tree;
  std::optional<uint64_t> first_altered;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT seq, record, leaf_hash FROM audit_log ORDER BY seq", -1, &stmt,
                         nullptr) != SQLITE_OK) {
    return absl::InvalidArgumentError(
        absl::StrCat(db_path, " is not a safeshare gateway database: ", sqlite3_errmsg(db)));
  }
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> finalizer(stmt, sqlite3_finalize);
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    const uint64_t seq = static_cast<uint64_t>(sqlite3_column_int64(stmt, 0));
    const uint64_t expected = tree.size();
    if (seq != expected) {
      return Broken(absl::StrCat("record ", expected, " is missing (the next stored record is ",
                                 seq, "): records were deleted"));
    }
    std::string bytes(static_cast<const char*>(sqlite3_column_blob(stmt, 1)),
                      sqlite3_column_bytes(stmt, 1));
    std::string stored(static_cast<const char*>(sqlite3_column_blob(stmt, 2)),
                       sqlite3_column_bytes(stmt, 2));
    if (auto st = CheckRecord(seq, bytes); !st.ok()) return st;
    const std::string leaf = transparency::LeafHash(bytes);
    if (leaf != stored && !first_altered) first_altered = seq;
    if (auto st = tree.AppendLeafHash(leaf); !st.ok()) return st;
    ++out.records;
  }
  if (rc != SQLITE_DONE)
    return absl::DataLossError(absl::StrCat("reading records: ", sqlite3_errmsg(db)));

  std::vector<std::string> notes;
  sqlite3_stmt* cps = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT note FROM audit_checkpoints ORDER BY tree_size", -1, &cps,
                         nullptr) != SQLITE_OK) {
    return absl::InvalidArgumentError(absl::StrCat("reading checkpoints: ", sqlite3_errmsg(db)));
  }
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> cp_finalizer(cps, sqlite3_finalize);
  while ((rc = sqlite3_step(cps)) == SQLITE_ROW) {
    notes.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(cps, 0)),
                       sqlite3_column_bytes(cps, 0));
  }
  if (rc != SQLITE_DONE) {
    return absl::DataLossError(absl::StrCat("reading checkpoints: ", sqlite3_errmsg(db)));
  }
  if (auto st = CheckCheckpoints(notes, tree, log, first_altered, out); !st.ok()) return st;
  return out;
}

absl::StatusOr<AuditVerification> VerifyAuditExport(const std::string& path,
                                                    const safeshare::v1::AuditLogIdentity& log) {
  if (auto st = CheckIdentity(log); !st.ok()) return st;
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::string line;
  if (!std::getline(in, line)) return Broken(absl::StrCat(path, " is empty"));
  safeshare::v1::AuditExportLine head;
  if (!google::protobuf::util::JsonStringToMessage(line, &head).ok() ||
      head.checkpoint_note().empty()) {
    return Broken("the export does not start with its signed checkpoint");
  }
  auto cp = OpenCheckpoint(head.checkpoint_note(), log);
  if (!cp.ok()) {
    return Broken(absl::StrCat("the export's checkpoint does not verify: ", cp.status().message()));
  }
  AuditVerification out;
  out.checkpoints = 1;
  out.tree_size = cp->size;
  out.root_hex = Hex(cp->root_hash);
  transparency::MemoryTree tree;
  bool filtered = false;
  uint64_t line_no = 1;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    safeshare::v1::AuditExportLine rec;
    if (auto st = google::protobuf::util::JsonStringToMessage(line, &rec); !st.ok()) {
      return Broken(
          absl::StrCat("line ", line_no, " is not an export record: ", st.message().as_string()));
    }
    const uint64_t index = rec.index();
    if (auto st = CheckRecord(index, rec.record_bytes()); !st.ok()) return st;
    const std::string leaf = transparency::LeafHash(rec.record_bytes());
    if (Hex(leaf) != rec.leaf_hash()) {
      return Broken(
          absl::StrCat("record ", index, " was altered: its bytes no longer match its leaf hash"));
    }
    if (index >= cp->size) {
      return Broken(absl::StrCat("record ", index, " is beyond the export's checkpoint (size ",
                                 cp->size, ")"));
    }
    if (rec.inclusion_proof_size() > 0 || filtered) {
      filtered = true;
      std::vector<std::string> proof;
      for (const auto& h : rec.inclusion_proof()) {
        if (h.size() != 64 || h.find_first_not_of("0123456789abcdef") != std::string::npos) {
          return Broken(absl::StrCat("record ", index, ": malformed proof hash"));
        }
        proof.push_back(absl::HexStringToBytes(h));
      }
      if (auto st = transparency::VerifyInclusion(leaf, index, cp->size, proof, cp->root_hash);
          !st.ok()) {
        return Broken(absl::StrCat("record ", index, " is not in the signed log: ", st.message()));
      }
    } else {
      if (index != tree.size()) {
        return Broken(absl::StrCat("record ", tree.size(), " is missing from the export (next is ",
                                   index, ")"));
      }
      if (auto st = tree.AppendLeafHash(leaf); !st.ok()) return st;
    }
    ++out.records;
  }
  out.complete = !filtered;
  if (!filtered) {
    if (tree.size() != cp->size) {
      return Broken(absl::StrCat("the export is truncated: its checkpoint covers ", cp->size,
                                 " records, the export holds ", tree.size()));
    }
    auto root = tree.Root();
    if (!root.ok()) return root.status();
    if (*root != cp->root_hash) {
      return Broken("the export's records do not hash to its signed checkpoint");
    }
  }
  return out;
}

absl::Status VerifyReceipt(const safeshare::v1::SubmitResponse& receipt,
                           const safeshare::v1::AuditLogIdentity& log) {
  if (auto st = CheckIdentity(log); !st.ok()) return st;
  auto cp = OpenCheckpoint(receipt.audit_checkpoint().signed_note(), log);
  if (!cp.ok()) {
    return Broken(
        absl::StrCat("the receipt's checkpoint does not verify: ", cp.status().message()));
  }
  const auto& proof = receipt.audit_inclusion_proof();
  // The signed checkpoint, not the proof, fixes the tree size.
  if (proof.tree_size() != cp->size) {
    return Broken(absl::StrCat("the proof is for tree size ", proof.tree_size(),
                               " but the checkpoint is for ", cp->size));
  }
  std::vector<std::string> hashes(proof.hashes().begin(), proof.hashes().end());
  const std::string leaf = transparency::LeafHash(receipt.audit_record());
  if (auto st =
          transparency::VerifyInclusion(leaf, proof.leaf_index(), cp->size, hashes, cp->root_hash);
      !st.ok()) {
    return Broken(absl::StrCat("the audit record is not in the signed log: ", st.message()));
  }
  safeshare::v1::AuditRecord record;
  if (!record.ParseFromString(receipt.audit_record()) || record.sequence() != proof.leaf_index()) {
    return Broken("the receipt's audit record does not parse or is not at its leaf index");
  }
  if (record.message_id() != receipt.message_id() ||
      record.event() != safeshare::v1::AUDIT_EVENT_TYPE_DECISION ||
      !google::protobuf::util::MessageDifferencer::Equals(record.decision(), receipt.decision())) {
    return Broken("the logged record is not this message's decision as the receipt states it");
  }
  return absl::OkStatus();
}

}  // namespace safeshare::agents
