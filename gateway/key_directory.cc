#include "gateway/key_directory.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "envelope/key_statement.h"
#include "gateway/audit/audit_records.h"

namespace safeshare::gateway {

namespace {

using safeshare::v1::KeyStatement;

// Who registers keys from the federation file: the gateway's own identity.
constexpr char kGatewayActor[] = "safeshare://gateway";

// Appends one key event for `key` (as it now stands) and indexes it.
absl::StatusOr<uint64_t> AppendKeyEvent(StoreTransaction& tx, safeshare::v1::AuditEventType event,
                                        const std::string& agency_id,
                                        const safeshare::v1::PublicKey& key,
                                        const safeshare::v1::SignedKeyStatement* statement,
                                        const std::string& registered_by,
                                        const std::string& actor_uri,
                                        const FederationDirectory& fed) {
  auto last = tx.LastKeyEvent(agency_id);
  if (!last.ok()) return last.status();
  safeshare::v1::KeyEvent e;
  e.set_agency_id(agency_id);
  *e.mutable_key() = key;
  if (statement != nullptr) *e.mutable_statement() = *statement;
  if (last->has_value()) {
    e.set_has_previous(true);
    e.set_previous_event_index(**last);
  }
  e.set_registered_by(registered_by);
  auto index = tx.AppendAudit(KeyEventRecord(event, std::move(e), actor_uri, fed));
  if (!index.ok()) return index.status();
  if (auto st = tx.RecordKeyEvent({*index, agency_id, key.key_id()}); !st.ok()) return st;
  return *index;
}

}  // namespace

absl::StatusOr<std::unique_ptr<KeyDirectory>> KeyDirectory::Load(Store* store,
                                                                 const FederationDirectory& fed,
                                                                 absl::Time now) {
  std::unique_ptr<KeyDirectory> dir(new KeyDirectory(store));
  absl::MutexLock lock(&dir->write_mu_);
  auto events = store->ListKeyEvents();
  if (!events.ok()) return events.status();
  auto stored = store->ListKeys();
  if (!stored.ok()) return stored.status();
  if (events->empty() && !stored->empty()) {
    // Keys kept before key transparency: into the log as they stand, once.
    absl::Status st = store->CommitAndWait([&](StoreTransaction& tx) -> absl::Status {
      for (const auto& k : *stored) {
        auto index =
            AppendKeyEvent(tx, safeshare::v1::AUDIT_EVENT_TYPE_KEY_REGISTERED, k.agency_id, k.key,
                           nullptr, "stored before key transparency", kGatewayActor, fed);
        if (!index.ok()) return index.status();
      }
      return absl::OkStatus();
    });
    if (!st.ok()) return st;
  }
  if (auto st = dir->SeedLocked(fed, now); !st.ok()) return st;
  return dir;
}

absl::Status KeyDirectory::Seed(const FederationDirectory& fed, absl::Time now) {
  absl::MutexLock lock(&write_mu_);
  return SeedLocked(fed, now);
}

absl::Status KeyDirectory::SeedLocked(const FederationDirectory& fed, absl::Time now) {
  for (const auto& agency : fed.federation().agencies()) {
    for (const auto& key : agency.keys()) {
      if (auto st = envelope::ValidateKeyMaterial(
              key, absl::StrCat("federation file: agency ", agency.id(), " key ", key.key_id()));
          !st.ok()) {
        return st;
      }
    }
  }
  absl::Status st = store_->CommitAndWait([&](StoreTransaction& tx) -> absl::Status {
    for (const auto& agency : fed.federation().agencies()) {
      for (const auto& key : agency.keys()) {
        auto seeded = tx.SeedKey({agency.id(), key}, now);
        if (!seeded.ok()) return seeded.status();
        if (seeded->outcome == SeedOutcome::kUnchanged) continue;
        const bool registered = seeded->outcome == SeedOutcome::kInserted;
        auto index = AppendKeyEvent(tx,
                                    registered ? safeshare::v1::AUDIT_EVENT_TYPE_KEY_REGISTERED
                                               : safeshare::v1::AUDIT_EVENT_TYPE_KEY_REVOKED,
                                    agency.id(), seeded->key, nullptr,
                                    registered ? "federation file" : "", kGatewayActor, fed);
        if (!index.ok()) return index.status();
      }
    }
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
  return ReloadLocked();
}

absl::Status KeyDirectory::Reload() {
  absl::MutexLock lock(&write_mu_);
  return ReloadLocked();
}

void KeyDirectory::SetMaxKeysPerAgency(size_t n) {
  absl::MutexLock lock(&write_mu_);
  max_keys_per_agency_ = n;
}

absl::Status KeyDirectory::ReloadLocked() {
  // Events first: a key changed between the two reads is then served
  // without its newest event, and the agent asks again, rather than the
  // other way round.
  auto events = store_->ListKeyEvents();
  if (!events.ok()) return events.status();
  auto keys = store_->ListKeys();
  if (!keys.ok()) return keys.status();
  auto next = std::make_shared<Snapshot>();
  for (const auto& e : *events) {
    next->events_by_agency[e.agency_id].push_back(e.leaf_index);
    next->last_event_by_key[e.key_id] = e.leaf_index;
  }
  for (auto& k : *keys) {
    next->ids_by_agency[k.agency_id].push_back(k.key.key_id());
    std::optional<envelope::SigningPublicKey> verifier;
    if (k.key.purpose() == safeshare::v1::KEY_PURPOSE_SIGNING) {
      if (auto decoded = envelope::SigningPublicKey::FromRaw(k.key.public_key()); decoded.ok()) {
        verifier = *std::move(decoded);
      }
    }
    const std::string id = k.key.key_id();
    next->by_id[id] =
        std::make_shared<const DirectoryKey>(DirectoryKey{std::move(k), std::move(verifier)});
  }
  absl::MutexLock lock(&mu_);
  snapshot_ = std::move(next);
  return absl::OkStatus();
}

std::shared_ptr<const KeyDirectory::Snapshot> KeyDirectory::Read() const {
  absl::MutexLock lock(&mu_);
  return snapshot_;
}

std::shared_ptr<const DirectoryKey> KeyDirectory::Find(const std::string& key_id) const {
  const auto keys = Read();
  auto it = keys->by_id.find(key_id);
  if (it == keys->by_id.end()) return nullptr;
  return it->second;
}

std::optional<safeshare::v1::PublicKey> KeyDirectory::Current(
    const std::string& agency_id, safeshare::v1::KeyPurpose purpose) const {
  const auto keys = Read();
  auto it = keys->ids_by_agency.find(agency_id);
  if (it == keys->ids_by_agency.end()) return std::nullopt;
  for (const auto& id : it->second) {
    const auto& k = keys->by_id.at(id)->key;
    if (k.purpose() == purpose && k.current() && !k.revoked()) return k;
  }
  return std::nullopt;
}

std::vector<safeshare::v1::PublicKey> KeyDirectory::KeysOf(const std::string& agency_id) const {
  const auto keys = Read();
  std::vector<safeshare::v1::PublicKey> out;
  auto it = keys->ids_by_agency.find(agency_id);
  if (it == keys->ids_by_agency.end()) return out;
  for (const auto& id : it->second) out.push_back(keys->by_id.at(id)->key);
  return out;
}

absl::StatusOr<AgencyKeys> KeyDirectory::WithHistory(const std::string& agency_id,
                                                     uint64_t known_tree_size) const {
  const auto snapshot = Read();
  AgencyKeys out;
  if (auto it = snapshot->ids_by_agency.find(agency_id); it != snapshot->ids_by_agency.end()) {
    for (const auto& id : it->second) out.keys.push_back(snapshot->by_id.at(id)->key);
  }
  // Read after the snapshot: every event in it is under this checkpoint.
  auto checkpoint = store_->LatestCheckpoint();
  if (!checkpoint.ok()) return checkpoint.status();
  auto& history = out.history;
  history.set_checkpoint_note(checkpoint->checkpoint_note);
  if (auto it = snapshot->events_by_agency.find(agency_id);
      it != snapshot->events_by_agency.end()) {
    for (uint64_t index : it->second) {
      if (index >= checkpoint->tree_size) break;
      auto leaf = store_->GetAuditLeaf(index);
      if (!leaf.ok()) return leaf.status();
      auto proof = store_->InclusionProof(index, checkpoint->tree_size);
      if (!proof.ok()) return proof.status();
      auto* e = history.add_events();
      e->set_leaf_index(index);
      e->set_record(std::move(leaf->record));
      for (auto& h : *proof) e->add_inclusion_proof(std::move(h));
    }
  }
  if (known_tree_size > 0 && known_tree_size < checkpoint->tree_size) {
    auto proof = store_->ConsistencyProof(known_tree_size, checkpoint->tree_size);
    if (!proof.ok()) return proof.status();
    history.set_consistency_from_size(known_tree_size);
    for (auto& h : *proof) history.add_consistency_proof(std::move(h));
  }
  return out;
}

absl::StatusOr<KeyChange> KeyDirectory::Apply(
    const std::string& agency_id, const std::string& actor_uri, KeyStatement::Action action,
    const safeshare::v1::SignedKeyStatement& signed_statement, const FederationDirectory& fed,
    absl::Time now) {
  if (signed_statement.statement().empty()) {
    return absl::PermissionDeniedError(
        "a key change must be a KeyStatement signed by the agency's current signing key; TLS "
        "credentials alone cannot change an agency's keys (use `safeshare keys rotate`)");
  }
  auto statement = envelope::ParseKeyStatement(signed_statement);
  if (!statement.ok()) return statement.status();
  if (statement->action() != action) {
    return absl::InvalidArgumentError(absl::StrCat("key statement: action is ",
                                                   KeyStatement::Action_Name(statement->action()),
                                                   ", not ", KeyStatement::Action_Name(action)));
  }
  if (statement->federation_id() != fed.federation().id()) {
    return absl::PermissionDeniedError(
        absl::StrCat("key statement is for federation ", statement->federation_id(),
                     ", not this gateway's (", fed.federation().id(), ")"));
  }
  if (statement->agency_id() != agency_id) {
    return absl::PermissionDeniedError(absl::StrCat(
        "key statement is about agency ", statement->agency_id(), "; the caller is ", agency_id));
  }
  absl::MutexLock lock(&write_mu_);
  const auto snapshot = Read();
  // Signed by the agency's current signing key, unrevoked and in validity.
  auto signer = snapshot->by_id.find(signed_statement.signing_key_id());
  if (signer == snapshot->by_id.end() || signer->second->agency_id != agency_id ||
      signer->second->key.purpose() != safeshare::v1::KEY_PURPOSE_SIGNING ||
      !signer->second->key.current() || signer->second->key.revoked()) {
    return absl::PermissionDeniedError(
        absl::StrCat("key statement is signed with ", signed_statement.signing_key_id(),
                     ", which is not the current signing key of ", agency_id));
  }
  if (auto st = envelope::CheckKeyValidAt(signer->second->key, now); !st.ok()) {
    return absl::PermissionDeniedError(
        absl::StrCat("key statement signer: ", st.message(),
                     "; an agency whose signing key expired is onboarded again by its operator"));
  }
  const absl::Status signature =
      envelope::VerifyKeyStatement(signed_statement, *statement, signer->second->key.public_key());
  if (!signature.ok()) return signature;
  const std::string& key_id = action == KeyStatement::ACTION_PUBLISH ? statement->key().key_id()
                                                                     : statement->revoke_key_id();
  auto known = snapshot->by_id.find(key_id);
  const bool mine = known != snapshot->by_id.end() && known->second->agency_id == agency_id;
  // A retry of a change already made is answered as made.
  if (mine && ((action == KeyStatement::ACTION_PUBLISH && known->second->key.current() &&
                known->second->key.public_key() == statement->key().public_key()) ||
               (action == KeyStatement::ACTION_REVOKE && known->second->key.revoked()))) {
    auto last = snapshot->last_event_by_key.find(key_id);
    return KeyChange{known->second->key,
                     last == snapshot->last_event_by_key.end() ? 0 : last->second};
  }
  if (action == KeyStatement::ACTION_PUBLISH && known == snapshot->by_id.end()) {
    auto ids = snapshot->ids_by_agency.find(agency_id);
    const size_t count = ids == snapshot->ids_by_agency.end() ? 0 : ids->second.size();
    if (count >= max_keys_per_agency_) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "agency ", agency_id, " already has ", count,
          " keys in the directory (limits.max_keys_per_agency); ask the operator to raise the "
          "limit, and rotate keys only as policy requires"));
    }
  }
  KeyChange change;
  absl::Status st = store_->CommitAndWait([&](StoreTransaction& tx) -> absl::Status {
    auto last = tx.LastKeyEvent(agency_id);
    if (!last.ok()) return last.status();
    if (!last->has_value() || **last != statement->previous_event_index()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the key statement follows key event ", statement->previous_event_index(),
          ", but the latest key event of ", agency_id, " is ",
          last->has_value() ? absl::StrCat(**last) : std::string("none"),
          ": the agency's keys changed since it was signed; fetch the directory and sign again"));
    }
    absl::StatusOr<safeshare::v1::PublicKey> key =
        action == KeyStatement::ACTION_PUBLISH ? tx.PublishKey({agency_id, statement->key()}, now)
                                               : tx.RevokeKey(agency_id, key_id, now);
    if (!key.ok()) return key.status();
    auto index = AppendKeyEvent(tx,
                                action == KeyStatement::ACTION_PUBLISH
                                    ? safeshare::v1::AUDIT_EVENT_TYPE_KEY_PUBLISHED
                                    : safeshare::v1::AUDIT_EVENT_TYPE_KEY_REVOKED,
                                agency_id, *key, &signed_statement, "", actor_uri, fed);
    if (!index.ok()) return index.status();
    change = {*key, *index};
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
  if (auto reload = ReloadLocked(); !reload.ok()) return reload;
  return change;
}

absl::Status AgencyWithKeys(const safeshare::v1::Agency& agency, const KeyDirectory& keys,
                            const std::string& federation_id, uint64_t known_tree_size,
                            safeshare::v1::GetAgencyResponse* out) {
  auto with = keys.WithHistory(agency.id(), known_tree_size);
  if (!with.ok()) return with.status();
  *out->mutable_agency() = agency;
  out->mutable_agency()->clear_keys();
  for (auto& k : with->keys) *out->mutable_agency()->add_keys() = std::move(k);
  *out->mutable_key_history() = std::move(with->history);
  out->set_federation_id(federation_id);
  return absl::OkStatus();
}

}  // namespace safeshare::gateway
