#include "agents/key_log.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/files.h"
#include "google/protobuf/text_format.h"
#include "transparency/merkle.h"

namespace safeshare::agents {
namespace {

using safeshare::v1::PublicKey;

absl::Status Refuse(absl::string_view agency_id, absl::string_view why) {
  return absl::FailedPreconditionError(absl::StrCat("the directory's keys for ", agency_id,
                                                    " do not verify against the key log: ", why));
}

std::vector<std::string> Hashes(const google::protobuf::RepeatedPtrField<std::string>& in) {
  return {in.begin(), in.end()};
}

}  // namespace
absl::StatusOr<KeyLog> KeyLog::Open(const std::string& identity_dir,
                                    const std::string& federation_id) {
  KeyLog log;
  log.federation_id_ = federation_id;
  const std::string key_path = absl::StrCat(identity_dir, "/", kAuditLogKeyFile);
  auto text = ReadFile(key_path);
  if (!text.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        key_path,
        " is missing: it holds the federation's audit log verifier key, which the agent needs to "
        "check every directory key; ask the operator for it (`safeshare pki init` writes it)"));
  }
  auto key = transparency::ParseVerifierKey(absl::StripAsciiWhitespace(*text));
  if (!key.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat(key_path, ": not a verifier key (", key.status().message(), ")"));
  }
  log.log_key_ = *std::move(key);
  log.memory_path_ = absl::StrCat(identity_dir, "/", kKeyLogMemoryFile);
  if (auto memory = ReadFile(log.memory_path_); memory.ok()) {
    if (!google::protobuf::TextFormat::ParseFromString(*memory, &log.memory_)) {
      return absl::DataLossError(
          absl::StrCat(log.memory_path_,
                       " does not parse; restore it from a backup (deleting it forgets "
                       "every checkpoint and key this agent verified)"));
    }
  }
  return log;
}

absl::StatusOr<VerifiedKeys> KeyLog::Verify(const std::string& agency_id,
                                            const safeshare::v1::GetAgencyResponse& response) {
  const auto& history = response.key_history();
  auto checkpoint = transparency::VerifyCheckpoint(history.checkpoint_note(), log_key_.name,
                                                   log_key_.public_key, log_key_.name);
  if (!checkpoint.ok()) {
    return Refuse(agency_id, absl::StrCat("its checkpoint does not verify under the federation's "
                                          "audit log key (",
                                          checkpoint.status().message(), ")"));
  }
  // The log only grows: the new tree must extend the one verified before.
  if (memory_.tree_size() > 0) {
    if (checkpoint->size < memory_.tree_size()) {
      return Refuse(agency_id, absl::StrCat("the gateway served a log of ", checkpoint->size,
                                            " records, older than the ", memory_.tree_size(),
                                            " this agent verified before"));
    }
    std::vector<std::string> proof;
    if (checkpoint->size > memory_.tree_size()) {
      if (history.consistency_from_size() != memory_.tree_size()) {
        return Refuse(agency_id, "no consistency proof from the checkpoint this agent verified");
      }
      proof = Hashes(history.consistency_proof());
    }
    if (auto st =
            transparency::VerifyConsistency(memory_.tree_size(), checkpoint->size,
                                            memory_.root_hash(), checkpoint->root_hash, proof);
        !st.ok()) {
      return Refuse(agency_id, absl::StrCat("the log is not an extension of the one this agent "
                                            "verified before (",
                                            st.message(), "): it was forked or rewritten"));
    }
  }
  auto verified = VerifyKeyHistory(federation_id_, agency_id, history, *checkpoint);
  if (!verified.ok()) return verified.status();
  // Every event seen before is still there, unchanged.
  safeshare::v1::KeyLogMemory::Agency* seen = nullptr;
  for (auto& a : *memory_.mutable_agencies()) {
    if (a.agency_id() == agency_id) seen = &a;
  }
  if (seen != nullptr) {
    for (int i = 0; i < seen->event_indexes_size(); ++i) {
      const bool kept = i < static_cast<int>(verified->events.size()) &&
                        verified->events[i].leaf_index == seen->event_indexes(i) &&
                        verified->events[i].leaf_hash == seen->leaf_hashes(i);
      if (!kept) {
        return Refuse(agency_id, absl::StrCat("key event ", seen->event_indexes(i),
                                              ", seen before, is missing or changed"));
      }
    }
  }
  std::vector<PublicKey> served(response.agency().keys().begin(), response.agency().keys().end());
  if (auto st = CheckServedKeys(agency_id, served, verified->keys); !st.ok()) return st;

  const bool grew = checkpoint->size != memory_.tree_size() || seen == nullptr ||
                    seen->event_indexes_size() != static_cast<int>(verified->events.size());
  if (grew) {
    memory_.set_checkpoint_note(history.checkpoint_note());
    memory_.set_tree_size(checkpoint->size);
    memory_.set_root_hash(checkpoint->root_hash);
    if (seen == nullptr) {
      seen = memory_.add_agencies();
      seen->set_agency_id(agency_id);
    }
    seen->clear_event_indexes();
    seen->clear_leaf_hashes();
    for (const auto& e : verified->events) {
      seen->add_event_indexes(e.leaf_index);
      seen->add_leaf_hashes(e.leaf_hash);
    }
    if (auto st = Remember(); !st.ok()) return st;
  }
  return verified;
}

absl::Status KeyLog::Remember() {
  std::string text;
  google::protobuf::TextFormat::PrintToString(memory_, &text);
  return WriteFileAtomically(
      memory_path_,
      "# What this agent verified of the key log (safeshare.v1.KeyLogMemory). Keep it.\n" + text,
      0600);
}

}  // namespace safeshare::agents
