#include "verification/audit_verifier.h"

#include <sqlite3.h>

#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "safeshare/v1/audit.pb.h"
#include "transparency/checkpoint.h"
#include "transparency/merkle.h"
#include "transparency/text_commitment.h"

namespace safeshare::verification {
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

constexpr char kRectifiedTextField[] = "rectification.new_text";

// What the log says of its committed texts: each record's commitments, and
// the last erasure or rectification recorded for each (leaf, field).
class TextLog {
 public:
  struct Change {
    bool erased = false;
    uint64_t rectified_in = 0;
  };

  void Add(uint64_t index, const safeshare::v1::AuditRecord& r) {
    for (const auto& c : r.text_commitments()) commitments_[index][c.field()] = c.sha256();
    if (r.event() == safeshare::v1::AUDIT_EVENT_TYPE_TEXT_ERASED ||
        r.event() == safeshare::v1::AUDIT_EVENT_TYPE_TEXT_RECTIFIED) {
      Change& c = changes_[{r.target_leaf_index(), r.target_field()}];
      c.erased = r.event() == safeshare::v1::AUDIT_EVENT_TYPE_TEXT_ERASED;
      c.rectified_in = c.erased ? 0 : index;
    }
  }

  // One disclosure of the text `d.field` of record `index`. `complete`: the
  // whole log is at hand, so the disclosure must also be the text's latest
  // state.
  absl::Status Check(uint64_t index, const safeshare::v1::TextDisclosure& d, bool complete,
                     AuditVerification& out) const {
    const std::string where = absl::StrCat("record ", index, " text ", d.field());
    auto own = commitments_.find(index);
    if (own == commitments_.end() || !own->second.count(d.field()) ||
        d.field() == kRectifiedTextField) {
      return Broken(absl::StrCat(where, " is disclosed but the record commits no such text"));
    }
    const bool erased = d.has_erased_time() || !d.erased_by().empty();
    if (complete) {
      auto change = changes_.find({index, d.field()});
      const Change last = change == changes_.end() ? Change{} : change->second;
      if (last.erased != erased || (!erased && last.rectified_in != d.rectified_in_leaf())) {
        return Broken(absl::StrCat(where, " is disclosed ", erased ? "erased" : "with a text",
                                   " but the log's last change to it says otherwise"));
      }
    }
    if (erased) {
      if (!d.salt().empty() || !d.text().empty()) {
        return Broken(absl::StrCat(where, " is disclosed as erased yet carries text"));
      }
      ++out.texts_erased;
      return absl::OkStatus();
    }
    std::string field = d.field();
    const std::string* commitment = &own->second.at(d.field());
    if (d.rectified_in_leaf() != 0) {
      auto rect = commitments_.find(d.rectified_in_leaf());
      if (rect == commitments_.end() || !rect->second.count(kRectifiedTextField)) {
        if (!complete) {
          ++out.texts_unchecked;
          return absl::OkStatus();
        }
        return Broken(absl::StrCat(where, " names rectification record ", d.rectified_in_leaf(),
                                   ", which commits no rectified text"));
      }
      if (!rectifies_.count({d.rectified_in_leaf(), {index, d.field()}})) {
        return Broken(absl::StrCat(where, " names record ", d.rectified_in_leaf(),
                                   ", which does not rectify it"));
      }
      field = kRectifiedTextField;
      commitment = &rect->second.at(kRectifiedTextField);
    }
    auto computed = transparency::TextCommitment(field, d.salt(), d.text());
    if (!computed.ok() || *computed != *commitment) {
      return Broken(absl::StrCat(where, " does not match its commitment",
                                 d.rectified_in_leaf() != 0
                                     ? absl::StrCat(" in record ", d.rectified_in_leaf())
                                     : std::string(),
                                 ": the text or its salt was altered"));
    }
    ++out.texts_checked;
    return absl::OkStatus();
  }

  void AddTarget(uint64_t index, const safeshare::v1::AuditRecord& r) {
    if (r.event() == safeshare::v1::AUDIT_EVENT_TYPE_TEXT_RECTIFIED) {
      rectifies_.insert({index, {r.target_leaf_index(), r.target_field()}});
    }
  }

  // With the whole log: every committed text has exactly the disclosures in
  // `disclosed` (a rectification's own new text is disclosed at its target).
  absl::Status CheckAllDisclosed(
      const std::set<std::pair<uint64_t, std::string>>& disclosed) const {
    for (const auto& [index, fields] : commitments_) {
      for (const auto& [field, sha] : fields) {
        if (field == kRectifiedTextField) continue;
        if (!disclosed.count({index, field})) {
          return Broken(absl::StrCat("record ", index, " commits a ", field,
                                     " text that is neither disclosed nor recorded as erased"));
        }
      }
    }
    return absl::OkStatus();
  }

 private:
  std::map<uint64_t, std::map<std::string, std::string>> commitments_;
  std::map<std::pair<uint64_t, std::string>, Change> changes_;
  std::set<std::pair<uint64_t, std::pair<uint64_t, std::string>>> rectifies_;
};

// The text a record shows at a committed field path ("a.b": field b of
// message field a), or "" if unset.
std::string ShownText(const google::protobuf::Message& record, absl::string_view path) {
  const google::protobuf::Message* m = &record;
  std::vector<absl::string_view> parts = absl::StrSplit(path, '.');
  for (size_t i = 0; i < parts.size(); ++i) {
    const auto* f = m->GetDescriptor()->FindFieldByName(std::string(parts[i]));
    if (f == nullptr || f->is_repeated()) return "";
    if (i + 1 == parts.size()) {
      return f->type() == google::protobuf::FieldDescriptor::TYPE_STRING
                 ? m->GetReflection()->GetString(*m, f)
                 : "";
    }
    if (f->type() != google::protobuf::FieldDescriptor::TYPE_MESSAGE) return "";
    m = &m->GetReflection()->GetMessage(*m, f);
  }
  return "";
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
  TextLog texts;
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
    {
      safeshare::v1::AuditRecord record;
      record.ParseFromString(bytes);  // CheckRecord parsed it
      texts.Add(seq, record);
      texts.AddTarget(seq, record);
    }
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

  // The latest checkpoint witnesses cosigned (a database from before
  // witnessing has no such table): it must be one of this tree's.
  sqlite3_stmt* cosigned = nullptr;
  if (sqlite3_prepare_v2(db,
                         "SELECT note FROM cosigned_checkpoints ORDER BY tree_size DESC LIMIT 1",
                         -1, &cosigned, nullptr) == SQLITE_OK) {
    std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> cosigned_finalizer(cosigned,
                                                                             sqlite3_finalize);
    if (sqlite3_step(cosigned) == SQLITE_ROW) {
      std::string note(reinterpret_cast<const char*>(sqlite3_column_text(cosigned, 0)),
                       sqlite3_column_bytes(cosigned, 0));
      auto cp = OpenCheckpoint(note, log);
      if (!cp.ok()) {
        return Broken(absl::StrCat("the latest cosigned checkpoint does not verify: ",
                                   cp.status().message()));
      }
      auto root = cp->size <= tree.size() ? tree.Root(cp->size)
                                          : absl::StatusOr<std::string>(std::string());
      if (!root.ok() || *root != cp->root_hash) {
        return Broken(absl::StrCat("the cosigned checkpoint for size ", cp->size,
                                   " is not of these records"));
      }
      out.witnessed_note = std::move(note);
    }
  }

  // The stored texts against the commitments of the records just verified.
  // A database from before erasable text has no audit_text table: nothing to
  // check.
  sqlite3_stmt* text_rows = nullptr;
  if (sqlite3_prepare_v2(db,
                         "SELECT seq, field, salt, text, rectified_in, erased_us, erased_by "
                         "FROM audit_text ORDER BY seq, field",
                         -1, &text_rows, nullptr) != SQLITE_OK) {
    return out;
  }
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> text_finalizer(text_rows, sqlite3_finalize);
  auto column = [&](int c) {
    const void* p = sqlite3_column_blob(text_rows, c);
    return p ? std::string(static_cast<const char*>(p), sqlite3_column_bytes(text_rows, c))
             : std::string();
  };
  std::set<std::pair<uint64_t, std::string>> disclosed;
  while ((rc = sqlite3_step(text_rows)) == SQLITE_ROW) {
    const uint64_t seq = static_cast<uint64_t>(sqlite3_column_int64(text_rows, 0));
    safeshare::v1::TextDisclosure d;
    d.set_field(column(1));
    d.set_salt(column(2));
    d.set_text(column(3));
    d.set_rectified_in_leaf(static_cast<uint64_t>(sqlite3_column_int64(text_rows, 4)));
    if (sqlite3_column_type(text_rows, 5) != SQLITE_NULL) {
      d.mutable_erased_time()->set_seconds(sqlite3_column_int64(text_rows, 5) / 1000000);
      d.set_erased_by(column(6));
    }
    if (auto st = texts.Check(seq, d, /*complete=*/true, out); !st.ok()) return st;
    disclosed.insert({seq, d.field()});
  }
  if (rc != SQLITE_DONE) {
    return absl::DataLossError(absl::StrCat("reading audit texts: ", sqlite3_errmsg(db)));
  }
  if (auto st = texts.CheckAllDisclosed(disclosed); !st.ok()) return st;
  return out;
}

absl::StatusOr<AuditVerification> VerifyAuditExport(const std::string& path,
                                                    const safeshare::v1::AuditLogIdentity& log) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  return VerifyAuditExport(in, path, log);
}

absl::StatusOr<AuditVerification> VerifyAuditExport(std::istream& in, absl::string_view name,
                                                    const safeshare::v1::AuditLogIdentity& log) {
  if (auto st = CheckIdentity(log); !st.ok()) return st;
  std::string line;
  if (!std::getline(in, line)) return Broken(absl::StrCat(name, " is empty"));
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
  out.witnessed_note = head.checkpoint_note();
  out.tree_size = cp->size;
  out.root_hex = Hex(cp->root_hash);
  transparency::MemoryTree tree;
  bool filtered = false;
  uint64_t line_no = 1;
  TextLog texts;
  struct Shown {
    uint64_t index;
    safeshare::v1::TextDisclosure disclosure;
    std::string text;  // what the record shows at the disclosure's field
  };
  std::vector<Shown> shown;
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
    {
      safeshare::v1::AuditRecord hashed;
      hashed.ParseFromString(rec.record_bytes());  // CheckRecord parsed it
      texts.Add(index, hashed);
      texts.AddTarget(index, hashed);
    }
    for (const auto& d : rec.disclosures()) {
      shown.push_back(Shown{index, d, ShownText(rec.record(), d.field())});
    }
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
  // Disclosures, once every record (and so every rectification) is read.
  std::set<std::pair<uint64_t, std::string>> disclosed;
  for (const Shown& s : shown) {
    const auto& d = s.disclosure;
    if (!disclosed.insert({s.index, d.field()}).second) {
      return Broken(absl::StrCat("record ", s.index, " discloses its ", d.field(), " twice"));
    }
    if (auto st = texts.Check(s.index, d, out.complete, out); !st.ok()) return st;
    const bool erased = d.has_erased_time() || !d.erased_by().empty();
    if (erased ? !absl::StartsWith(s.text, "erased on ") : s.text != d.text()) {
      return Broken(absl::StrCat("record ", s.index, " shows a ", d.field(),
                                 " other than the one it discloses"));
    }
  }
  if (auto st = texts.CheckAllDisclosed(disclosed); !st.ok()) return st;
  return out;
}

namespace {

// The record is the one at the proof's leaf of the signed checkpoint.
absl::StatusOr<safeshare::v1::AuditRecord> RecordInSignedLog(
    const safeshare::v1::Checkpoint& checkpoint, const safeshare::v1::InclusionProof& proof,
    const std::string& record_bytes, const safeshare::v1::AuditLogIdentity& log) {
  if (auto st = CheckIdentity(log); !st.ok()) return st;
  auto cp = OpenCheckpoint(checkpoint.signed_note(), log);
  if (!cp.ok()) {
    return Broken(
        absl::StrCat("the receipt's checkpoint does not verify: ", cp.status().message()));
  }
  // The signed checkpoint, not the proof, fixes the tree size.
  if (proof.tree_size() != cp->size) {
    return Broken(absl::StrCat("the proof is for tree size ", proof.tree_size(),
                               " but the checkpoint is for ", cp->size));
  }
  std::vector<std::string> hashes(proof.hashes().begin(), proof.hashes().end());
  const std::string leaf = transparency::LeafHash(record_bytes);
  if (auto st =
          transparency::VerifyInclusion(leaf, proof.leaf_index(), cp->size, hashes, cp->root_hash);
      !st.ok()) {
    return Broken(absl::StrCat("the audit record is not in the signed log: ", st.message()));
  }
  safeshare::v1::AuditRecord record;
  if (!record.ParseFromString(record_bytes) || record.sequence() != proof.leaf_index()) {
    return Broken("the receipt's audit record does not parse or is not at its leaf index");
  }
  return record;
}

}  // namespace

absl::Status VerifyReceipt(const safeshare::v1::SubmitResponse& receipt,
                           const safeshare::v1::AuditLogIdentity& log,
                           const transparency::WitnessPolicy* witnesses) {
  auto record = RecordInSignedLog(receipt.audit_checkpoint(), receipt.audit_inclusion_proof(),
                                  receipt.audit_record(), log);
  if (!record.ok()) return record.status();
  if (record->message_id() != receipt.message_id() ||
      record->event() != safeshare::v1::AUDIT_EVENT_TYPE_DECISION ||
      !google::protobuf::util::MessageDifferencer::Equals(record->decision(), receipt.decision())) {
    return Broken("the logged record is not this message's decision as the receipt states it");
  }
  if (witnesses == nullptr) return absl::OkStatus();
  if (!receipt.has_witnessed()) {
    return Broken(
        "the receipt carries no cosigned checkpoint (safeshare receipt witness adds one once "
        "witnesses have cosigned)");
  }
  auto witnessed = RecordInSignedLog(receipt.witnessed().checkpoint(), receipt.witnessed().proof(),
                                     receipt.audit_record(), log);
  if (!witnessed.ok()) {
    return Broken(absl::StrCat("in the cosigned checkpoint: ", witnessed.status().message()));
  }
  AuditVerification v;
  v.witnessed_note = receipt.witnessed().checkpoint().signed_note();
  return CheckWitnessed(v, *witnesses);
}

absl::Status CheckWitnessed(const AuditVerification& verified,
                            const transparency::WitnessPolicy& policy) {
  if (verified.witnessed_note.empty()) {
    return Broken("no checkpoint cosigned by witnesses was found to weigh");
  }
  if (auto st = policy.Check(verified.witnessed_note); !st.ok()) {
    return Broken(absl::StrCat("the witness policy is not met: ", st.message()));
  }
  return absl::OkStatus();
}

absl::Status VerifyDecisionNotToShare(
    const safeshare::v1::RecordDecisionNotToShareResponse& recorded,
    const safeshare::v1::AuditLogIdentity& log) {
  auto record = RecordInSignedLog(recorded.audit_checkpoint(), recorded.audit_inclusion_proof(),
                                  recorded.audit_record(), log);
  if (!record.ok()) return record.status();
  if (record->message_id() != recorded.decision_id() ||
      record->event() != safeshare::v1::AUDIT_EVENT_TYPE_DECIDED_NOT_TO_SHARE) {
    return Broken("the logged record is not this decision not to share");
  }
  return absl::OkStatus();
}

}  // namespace safeshare::verification
