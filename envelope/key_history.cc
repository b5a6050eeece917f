#include "envelope/key_history.h"

#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/time.h"
#include "envelope/key_statement.h"
#include "envelope/keys.h"
#include "transparency/merkle.h"

namespace safeshare::envelope {
namespace {

using safeshare::v1::AuditEventType;
using safeshare::v1::KeyStatement;
using safeshare::v1::PublicKey;

absl::Status Refuse(absl::string_view agency_id, absl::string_view why) {
  return absl::FailedPreconditionError(absl::StrCat("the directory's keys for ", agency_id,
                                                    " do not verify against the key log: ", why));
}

bool SameTime(const PublicKey& a, const PublicKey& b) {
  return a.has_not_before() == b.has_not_before() && a.has_not_after() == b.has_not_after() &&
         a.not_before().seconds() == b.not_before().seconds() &&
         a.not_before().nanos() == b.not_before().nanos() &&
         a.not_after().seconds() == b.not_after().seconds() &&
         a.not_after().nanos() == b.not_after().nanos();
}

// Same key material and validity (not its current/revoked flags).
bool SameKey(const PublicKey& a, const PublicKey& b) {
  return a.key_id() == b.key_id() && a.purpose() == b.purpose() &&
         a.public_key() == b.public_key() && SameTime(a, b);
}

std::vector<std::string> Hashes(const google::protobuf::RepeatedPtrField<std::string>& in) {
  return {in.begin(), in.end()};
}

// The replayed directory of one agency.
class Replay {
 public:
  explicit Replay(std::string agency_id) : agency_id_(std::move(agency_id)) {}

  const PublicKey* Find(const std::string& key_id) const {
    auto it = index_.find(key_id);
    return it == index_.end() ? nullptr : &keys_[it->second];
  }
  // `key` as the event leaves it; a current key demotes the others of its
  // purpose.
  void Put(const PublicKey& key) {
    if (key.current()) {
      for (auto& k : keys_) {
        if (k.purpose() == key.purpose()) k.set_current(false);
      }
    }
    auto it = index_.find(key.key_id());
    if (it == index_.end()) {
      index_[key.key_id()] = keys_.size();
      keys_.push_back(key);
    } else {
      keys_[it->second] = key;
    }
  }
  std::vector<PublicKey> Take() { return std::move(keys_); }

 private:
  std::string agency_id_;
  std::vector<PublicKey> keys_;
  std::map<std::string, size_t> index_;
};

// A PUBLISHED or REVOKED event's statement: well formed, about this agency
// and this event, signed by the agency's current signing key at the time.
absl::Status CheckStatement(const std::string& federation_id, const std::string& agency_id,
                            const safeshare::v1::KeyEvent& e, KeyStatement::Action action,
                            absl::Time when, const Replay& replay) {
  auto statement = ParseKeyStatement(e.statement());
  if (!statement.ok()) return Refuse(agency_id, statement.status().message());
  if (statement->action() != action || statement->federation_id() != federation_id ||
      statement->agency_id() != agency_id) {
    return Refuse(agency_id, "a key event's statement is for another action, agency or federation");
  }
  if (!e.has_previous() || statement->previous_event_index() != e.previous_event_index()) {
    return Refuse(agency_id, "a key event's statement does not follow the event before it");
  }
  const PublicKey* signer = replay.Find(e.statement().signing_key_id());
  if (signer == nullptr || signer->purpose() != safeshare::v1::KEY_PURPOSE_SIGNING ||
      !signer->current() || signer->revoked()) {
    return Refuse(agency_id, absl::StrCat("key event for ", e.key().key_id(), " is signed with ",
                                          e.statement().signing_key_id(),
                                          ", which was not the agency's current signing key"));
  }
  if (auto st = CheckKeyValidAt(*signer, when); !st.ok()) {
    return Refuse(agency_id,
                  absl::StrCat("a key event's signer was not valid then: ", st.message()));
  }
  if (auto st = VerifyKeyStatement(e.statement(), *statement, signer->public_key()); !st.ok()) {
    return Refuse(agency_id, st.message());
  }
  if (action == KeyStatement::ACTION_PUBLISH) {
    if (!SameKey(statement->key(), e.key()) || !e.key().current() || e.key().revoked()) {
      return Refuse(agency_id, absl::StrCat("the key published in event for ", e.key().key_id(),
                                            " is not the key the agency signed"));
    }
  } else if (statement->revoke_key_id() != e.key().key_id()) {
    return Refuse(agency_id, "a revocation event names another key than its statement");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<VerifiedKeys> VerifyKeyHistory(const std::string& federation_id,
                                              const std::string& agency_id,
                                              const safeshare::v1::KeyHistory& history,
                                              const transparency::Checkpoint& checkpoint) {
  VerifiedKeys out;
  Replay replay(agency_id);
  const KeyEventView* previous = nullptr;
  for (const auto& proof : history.events()) {
    KeyEventView view;
    view.leaf_index = proof.leaf_index();
    view.leaf_hash = transparency::LeafHash(proof.record());
    const absl::Status included =
        transparency::VerifyInclusion(view.leaf_hash, proof.leaf_index(), checkpoint.size,
                                      Hashes(proof.inclusion_proof()), checkpoint.root_hash);
    if (!included.ok()) {
      return Refuse(agency_id,
                    absl::StrCat("key event ", proof.leaf_index(), " is not in the signed log (",
                                 included.message(), ")"));
    }
    if (!view.record.ParseFromString(proof.record())) {
      return Refuse(agency_id, absl::StrCat("record ", proof.leaf_index(), " does not parse"));
    }
    const auto& r = view.record;
    const auto& e = r.key_event();
    if ((r.event() != safeshare::v1::AUDIT_EVENT_TYPE_KEY_REGISTERED &&
         r.event() != safeshare::v1::AUDIT_EVENT_TYPE_KEY_PUBLISHED &&
         r.event() != safeshare::v1::AUDIT_EVENT_TYPE_KEY_REVOKED) ||
        e.agency_id() != agency_id || r.sender_agency_id() != agency_id) {
      return Refuse(agency_id, absl::StrCat("record ", proof.leaf_index(),
                                            " is not a key event of ", agency_id));
    }
    // One chain: each event names the one before it.
    if (previous == nullptr
            ? e.has_previous()
            : (!e.has_previous() || e.previous_event_index() != previous->leaf_index ||
               proof.leaf_index() <= previous->leaf_index)) {
      return Refuse(agency_id, absl::StrCat("key event ", proof.leaf_index(),
                                            " does not follow the agency's previous key event: "
                                            "the history served is incomplete or reordered"));
    }
    const PublicKey& key = e.key();
    if (auto st = ValidateKeyMaterial(key, absl::StrCat("key event ", proof.leaf_index()));
        !st.ok()) {
      return Refuse(agency_id, st.message());
    }

    const absl::Time when = FromTimestamp(r.time());
    const PublicKey* before = replay.Find(key.key_id());
    switch (r.event()) {
      case safeshare::v1::AUDIT_EVENT_TYPE_KEY_REGISTERED:
        if (e.has_statement() || before != nullptr) {
          return Refuse(agency_id, absl::StrCat("registration event ", proof.leaf_index(),
                                                " is signed or registers a known key"));
        }
        break;
      case safeshare::v1::AUDIT_EVENT_TYPE_KEY_PUBLISHED:
        if (before != nullptr && (before->revoked() || !SameKey(*before, key))) {
          return Refuse(agency_id, absl::StrCat("event ", proof.leaf_index(),
                                                " publishes a revoked or altered key"));
        }
        if (auto st = CheckStatement(federation_id, agency_id, e, KeyStatement::ACTION_PUBLISH,
                                     when, replay);
            !st.ok()) {
          return st;
        }
        break;
      default:  // KEY_REVOKED
        if (before == nullptr || !SameKey(*before, key) || !key.revoked() || key.current()) {
          return Refuse(agency_id, absl::StrCat("revocation event ", proof.leaf_index(),
                                                " does not revoke a key of the agency"));
        }
        // Unsigned: revoked by the federation file (the operator); the
        // agency's monitor reports it.
        if (e.has_statement()) {
          if (auto st = CheckStatement(federation_id, agency_id, e, KeyStatement::ACTION_REVOKE,
                                       when, replay);
              !st.ok()) {
            return st;
          }
        }
        break;
    }
    replay.Put(key);
    out.events.push_back(std::move(view));
    previous = &out.events.back();
  }
  out.keys = replay.Take();
  return out;
}

absl::Status CheckServedKeys(const std::string& agency_id, const std::vector<PublicKey>& served,
                             const std::vector<PublicKey>& replayed) {
  std::map<std::string, const PublicKey*> logged;
  for (const auto& k : replayed) logged[k.key_id()] = &k;
  // A key from nowhere first: the plainest sign of a gateway skipping the log.
  for (const auto& k : served) {
    if (logged.count(k.key_id()) == 0) {
      return Refuse(
          agency_id,
          absl::StrCat("key ", k.key_id(), " is served but no key event in the log introduces it"));
    }
  }
  for (const auto& k : served) {
    auto it = logged.find(k.key_id());
    const PublicKey& l = *it->second;
    if (!SameKey(k, l) || k.current() != l.current() || k.revoked() != l.revoked()) {
      return Refuse(agency_id, absl::StrCat("key ", k.key_id(),
                                            " is served differently from its key events (bytes, "
                                            "validity, current or revoked)"));
    }
    logged.erase(it);
  }
  if (!logged.empty()) {
    return Refuse(agency_id, absl::StrCat("key ", logged.begin()->first,
                                          " is in the log but the directory does not serve it"));
  }
  return absl::OkStatus();
}

}  // namespace safeshare::envelope
