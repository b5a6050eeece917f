#include "agents/agency_agent.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/error_reason.h"
#include "common/time.h"
#include "envelope/content.h"
#include "envelope/envelope_shape.h"
#include "envelope/identity_uri.h"
#include "envelope/key_statement.h"
#include "envelope/sealing.h"

namespace safeshare::agents {

using safeshare::v1::ContentRefusalReason;

namespace {

const safeshare::v1::PublicKey* FindKey(const safeshare::v1::Agency& agency,
                                        const std::string& key_id) {
  for (const auto& k : agency.keys()) {
    if (k.key_id() == key_id) return &k;
  }
  return nullptr;
}

const safeshare::v1::PublicKey* CurrentKey(const safeshare::v1::Agency& agency,
                                           safeshare::v1::KeyPurpose purpose) {
  for (const auto& k : agency.keys()) {
    if (k.purpose() == purpose && k.current() && !k.revoked()) return &k;
  }
  return nullptr;
}

}  // namespace

bool IsContentVerdict(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kNotFound:
      return true;
    default:
      return false;
  }
}

absl::StatusOr<std::unique_ptr<AgencyAgent>> AgencyAgent::Open(const std::string& identity_dir,
                                                               const std::string& gateway_target) {
  auto identity = LoadIdentity(identity_dir);
  if (!identity.ok()) return identity.status();
  auto uri = PrincipalUriOfCertificate(identity->cert_pem);
  if (!uri.ok()) return uri.status();
  auto named = envelope::ParseIdentityUri(*uri);
  if (!named.ok()) return named.status();
  if (named->kind != envelope::IdentityUri::Kind::kAgency) {
    return absl::InvalidArgumentError(absl::StrCat(*uri, " is not an agency identity"));
  }
  auto keyring = Keyring::Load(identity_dir);
  if (!keyring.ok()) return keyring.status();
  std::unique_ptr<AgencyAgent> agent(new AgencyAgent());
  agent->identity_dir_ = identity_dir;
  agent->federation_id_ = named->federation_id;
  agent->agency_id_ = named->agency_id;
  agent->key_log_ = KeyLog::Open(identity_dir, named->federation_id);
  agent->client_ = AgentClient::Connect(gateway_target, *identity);
  agent->keyring_ = std::move(*keyring);
  return agent;
}

absl::StatusOr<safeshare::v1::Agency> AgencyAgent::Directory(const std::string& agency_id,
                                                             bool refresh) {
  if (!refresh) {
    auto it = directory_cache_.find(agency_id);
    if (it != directory_cache_.end()) return it->second;
  }
  safeshare::v1::Agency agency;
  auto verified = FetchVerified(agency_id, &agency);
  if (!verified.ok()) return verified.status();
  agency.clear_keys();
  for (auto& k : verified->keys) *agency.add_keys() = std::move(k);
  directory_cache_[agency_id] = agency;
  return agency;
}

absl::StatusOr<VerifiedKeys> AgencyAgent::KeyHistory(const std::string& agency_id) {
  return FetchVerified(agency_id, nullptr);
}

absl::StatusOr<VerifiedKeys> AgencyAgent::FetchVerified(const std::string& agency_id,
                                                        safeshare::v1::Agency* agency) {
  if (!key_log_.ok()) return key_log_.status();
  auto response = client_->GetAgency(agency_id, key_log_->known_tree_size());
  if (!response.ok()) return response.status();
  KeyLog* log = &*key_log_;
  const std::string federation = response->federation_id();
  if (!federation.empty() && federation != federation_id_) {
    // A peer federation's agency: its keys are proven by that federation's
    // log, under the key pinned for it here, never by what our gateway says.
    auto peer = PeerKeyLog(federation);
    if (!peer.ok()) return peer.status();
    log = *peer;
    if (log->known_tree_size() != key_log_->known_tree_size()) {
      response = client_->GetAgency(agency_id, log->known_tree_size());
      if (!response.ok()) return response.status();
      if (response->federation_id() != federation) {
        return absl::FailedPreconditionError(
            absl::StrCat("the gateway answered for ", agency_id, " from two federations"));
      }
    }
  }
  auto verified = log->Verify(agency_id, *response);
  if (!verified.ok()) return verified.status();
  // Proven by the peer's own log: only then is the agency the peer's.
  if (log != &*key_log_) peer_agency_ids_.insert(agency_id);
  if (agency != nullptr) *agency = std::move(*response->mutable_agency());
  return verified;
}

absl::StatusOr<KeyLog*> AgencyAgent::PeerKeyLog(const std::string& federation_id) {
  if (!envelope::IsValidFederationId(federation_id)) {
    return absl::FailedPreconditionError("the gateway named a malformed federation id");
  }
  auto it = peer_key_logs_.find(federation_id);
  if (it == peer_key_logs_.end()) {
    it = peer_key_logs_
             .emplace(federation_id, KeyLog::Open(absl::StrCat(identity_dir_, "/", kPeerLogsDir,
                                                               "/", federation_id),
                                                  federation_id))
             .first;
  }
  if (!it->second.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("federation ", federation_id,
                     " is a peer partnership; to seal to or verify its agencies, "
                     "pin its audit-log verifier key in ",
                     identity_dir_, "/", kPeerLogsDir, "/", federation_id, "/", kAuditLogKeyFile,
                     " (", it->second.status().message(), ")"));
  }
  return &*it->second;
}

absl::StatusOr<safeshare::v1::SignedEnvelope> AgencyAgent::Seal(const OutgoingMessage& m) {
  safeshare::v1::Envelope header = BuildEnvelopeHeader(m);
  // Refuse here what the recipient would refuse: undeclared categories.
  if (auto st = envelope::CheckContentAgainstDeclaration(m.content, m.kind, m.declaration);
      !st.ok()) {
    return absl::InvalidArgumentError(st.message());
  }
  auto recipient = Directory(m.recipient_agency_id, /*refresh=*/true);
  if (!recipient.ok()) return recipient.status();
  const auto* enc = CurrentKey(*recipient, safeshare::v1::KEY_PURPOSE_ENCRYPTION);
  if (enc == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat(m.recipient_agency_id, " has no current encryption key in the directory"));
  }
  if (auto st = envelope::CheckKeyValidAt(*enc, absl::Now()); !st.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat(m.recipient_agency_id, "'s encryption ", st.message()));
  }
  auto self = Directory(agency_id_, /*refresh=*/true);
  if (!self.ok()) return self.status();
  const auto* own = CurrentKey(*self, safeshare::v1::KEY_PURPOSE_SIGNING);
  if (own == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat(agency_id_, " has no current signing key in the directory; run keys rotate"));
  }
  auto signing = keyring_.Find(own->key_id());
  if (!signing.ok()) {
    return absl::FailedPreconditionError(absl::StrCat("the directory's current signing key ",
                                                      own->key_id(), " is not in this keyring"));
  }
  auto sealed = envelope::SealAndSign(header, m.content.SerializeAsString(),
                                      {enc->key_id(), enc->public_key()}, *signing);
  if (!sealed.ok()) return sealed.status();
  safeshare::v1::Envelope check;
  check.ParseFromString(sealed->envelope_bytes());
  if (auto st = envelope::ValidateEnvelopeShape(check); !st.ok()) return st;
  return sealed;
}

absl::StatusOr<safeshare::v1::SubmitResponse> AgencyAgent::Send(
    const OutgoingMessage& m, safeshare::v1::SubmitResponse* refused_receipt) {
  auto sealed = Seal(m);
  if (!sealed.ok()) return sealed.status();
  return client_->Submit(*sealed, refused_receipt);
}

absl::StatusOr<std::vector<AgencyAgent::TeamCopy>> AgencyAgent::SendToTeam(
    OutgoingMessage m, const std::string& team_id) {
  auto team = client_->GetTeam(team_id);
  if (!team.ok()) return team.status();
  m.team_id = team_id;
  m.team_message_id = m.message_id.empty() ? NewMessageId() : m.message_id;
  std::vector<TeamCopy> copies;
  for (const std::string& member : team->member_agency_ids()) {
    if (member == m.sender_agency_id) continue;
    OutgoingMessage copy = m;
    copy.recipient_agency_id = member;
    copy.message_id = absl::StrCat(m.team_message_id, ":", member);
    TeamCopy result{member, absl::UnknownError("not sent"), {}};
    result.receipt = Send(copy, &result.refused);
    copies.push_back(std::move(result));
  }
  return copies;
}

absl::StatusOr<ReceivedMessage> AgencyAgent::OpenEnvelope(
    const safeshare::v1::SignedEnvelope& signed_envelope, ContentRefusalReason* reason) {
  *reason = safeshare::v1::CONTENT_REFUSAL_REASON_MALFORMED_CONTENT;
  auto e = envelope::ParseEnvelope(signed_envelope.envelope_bytes());
  if (!e.ok()) return e.status();
  if (auto st = envelope::ValidateSealedShape(signed_envelope, *e); !st.ok()) return st;
  // The id names files in the recipient's inbox: the gateway's rules, checked again here.
  if (!envelope::IsValidMessageId(e->message_id())) {
    return absl::InvalidArgumentError(
        "envelope message_id must be 1-128 characters of [A-Za-z0-9._:-]");
  }
  if (e->recipient_agency_id() != agency_id_) {
    return absl::FailedPreconditionError(absl::StrCat(
        "envelope is addressed to ", e->recipient_agency_id(), ", not to ", agency_id_));
  }
  // Verify against the sender's directory entry; refresh once for a new key.
  *reason = safeshare::v1::CONTENT_REFUSAL_REASON_BAD_SIGNATURE;
  // A directory that does not verify is no verdict on the message: it stays
  // in the mailbox until the sender's keys can be checked.
  auto unverified = [](const absl::Status& st) {
    return absl::UnavailableError(absl::StrCat("cannot check the sender's keys: ", st.message()));
  };
  auto sender = Directory(e->sender_agency_id(), /*refresh=*/false);
  if (!sender.ok()) return unverified(sender.status());
  const auto* key = FindKey(*sender, signed_envelope.signing_key_id());
  if (key == nullptr) {
    sender = Directory(e->sender_agency_id(), /*refresh=*/true);
    if (!sender.ok()) return unverified(sender.status());
    key = FindKey(*sender, signed_envelope.signing_key_id());
  }
  if (key == nullptr || key->purpose() != safeshare::v1::KEY_PURPOSE_SIGNING) {
    return absl::UnauthenticatedError(absl::StrCat("signing key ", signed_envelope.signing_key_id(),
                                                   " is not a signing key of ",
                                                   e->sender_agency_id()));
  }
  if (key->revoked()) {
    return absl::UnauthenticatedError(
        absl::StrCat("signing key ", key->key_id(), " of ", e->sender_agency_id(), " is revoked"));
  }
  if (e->has_created_time()) {
    if (auto st = envelope::CheckKeyValidAt(*key, FromTimestamp(e->created_time())); !st.ok()) {
      return absl::UnauthenticatedError(absl::StrCat("signed when its signing ", st.message()));
    }
  }
  if (auto st = envelope::VerifySignature(signed_envelope, key->public_key()); !st.ok()) return st;

  *reason = safeshare::v1::CONTENT_REFUSAL_REASON_UNDECRYPTABLE;
  auto own = keyring_.Find(e->payload().recipient_key_id());
  if (!own.ok()) {
    return absl::FailedPreconditionError(absl::StrCat("payload is sealed to key ",
                                                      e->payload().recipient_key_id(),
                                                      ", which this keyring lacks"));
  }
  auto plaintext = envelope::DecryptPayload(*e, *own);
  if (!plaintext.ok()) return plaintext.status();

  *reason = safeshare::v1::CONTENT_REFUSAL_REASON_MALFORMED_CONTENT;
  auto content = envelope::ParseContent(*plaintext);
  if (!content.ok()) return content.status();
  if (auto st = envelope::CheckContentAgainstDeclaration(*content, e->kind(), e->declaration());
      !st.ok()) {
    const auto check = ReasonOf(st);
    if (check.has_value() && check->reason() == envelope::kContentUndeclaredCategory) {
      *reason = safeshare::v1::CONTENT_REFUSAL_REASON_UNDECLARED_CATEGORY;
    } else if (check.has_value() && check->reason() == envelope::kContentInvalidIdentifier) {
      *reason = safeshare::v1::CONTENT_REFUSAL_REASON_INVALID_IDENTIFIER;
    }
    return st;
  }
  ReceivedMessage out;
  out.message_id = e->message_id();
  out.header = std::move(*e);
  out.header.clear_payload();
  out.content = std::move(*content);
  out.signing_key_id = signed_envelope.signing_key_id();
  return out;
}

absl::StatusOr<ReceivedMessage> AgencyAgent::OpenDelivered(
    const safeshare::v1::MailboxMessage& message, ContentRefusalReason* reason) {
  auto opened = OpenEnvelope(message.signed_envelope(), reason);
  if (!opened.ok()) return opened;
  if (opened->message_id != message.message_id()) {
    *reason = safeshare::v1::CONTENT_REFUSAL_REASON_MALFORMED_CONTENT;
    // Neither id is echoed: the mailbox id is unchecked text from the gateway.
    return absl::InvalidArgumentError(
        "the mailbox delivered this envelope under a message id other than the one its "
        "sender signed");
  }
  // The signed date against the gateway's acceptance, by the gateway's default
  // window: a verdict. A peer partnership's forwarding may follow an outage:
  // only the clock-skew bound applies to it.
  envelope::CreatedTimeWindow window;
  if (peer_agency_ids_.count(opened->header.sender_agency_id()) > 0) {
    window.max_age = absl::InfiniteDuration();
  }
  if (message.has_accepted_time()) {
    absl::Status dated =
        envelope::CheckCreatedTime(opened->header, FromTimestamp(message.accepted_time()), window,
                                   "the time the gateway accepted it");
    if (!dated.ok()) {
      *reason = safeshare::v1::CONTENT_REFUSAL_REASON_CREATED_TIME_OUTSIDE_WINDOW;
      return absl::InvalidArgumentError(dated.message());
    }
  }
  // Ahead of this agency's own clock: the two clocks may disagree by more
  // than the skew allowed, so it is no verdict. The message waits in the
  // mailbox and is opened once this clock has caught up with its date.
  absl::Status early = envelope::CheckCreatedTime(opened->header, absl::Now(),
                                                  {window.max_ahead, absl::InfiniteDuration()},
                                                  "this agency's clock");
  if (!early.ok()) return absl::UnavailableError(early.message());
  return opened;
}

absl::StatusOr<Inbox> AgencyAgent::Receive() {
  Inbox inbox;
  std::string token;
  do {
    auto page = client_->Fetch(0, token);
    if (!page.ok()) return page.status();
    for (const auto& msg : page->messages()) {
      if (msg.has_escalation()) {
        inbox.escalations.push_back(msg);
        continue;
      }
      if (!envelope::IsValidMessageId(msg.message_id())) {
        // Cannot be refused or acknowledged either: the gateway is at fault.
        return absl::InvalidArgumentError(
            "the gateway delivered a message under an invalid message id");
      }
      ContentRefusalReason reason;
      auto opened = OpenDelivered(msg, &reason);
      if (opened.ok()) {
        inbox.received.push_back(std::move(*opened));
        continue;
      }
      if (!IsContentVerdict(opened.status())) return opened.status();  // try again later
      std::string detail(opened.status().message());
      if (auto st = client_->RefuseContent(msg.message_id(), reason, detail); !st.ok()) {
        return st;
      }
      inbox.refused.push_back({msg.message_id(), reason, detail});
    }
    token = page->next_page_token();
  } while (!token.empty());
  return inbox;
}

absl::StatusOr<safeshare::v1::SignedKeyStatement> AgencyAgent::SignStatement(
    safeshare::v1::KeyStatement statement, const envelope::PrivateKey* new_signing_key) {
  auto self = KeyHistory(agency_id_);
  if (!self.ok()) return self.status();
  if (self->events.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat(agency_id_, " has no key events in the log; ask the operator to register it"));
  }
  const safeshare::v1::PublicKey* current = nullptr;
  for (const auto& k : self->keys) {
    if (k.purpose() == safeshare::v1::KEY_PURPOSE_SIGNING && k.current() && !k.revoked()) {
      current = &k;
    }
  }
  if (current == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        agency_id_,
        " has no current signing key to sign with; the operator must onboard it again"));
  }
  auto signer = keyring_.Find(current->key_id());
  if (!signer.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the current signing key ", current->key_id(), " is not in this keyring (",
                     identity_dir_, "/keys); key changes must be signed with it"));
  }
  statement.set_federation_id(federation_id_);
  statement.set_agency_id(agency_id_);
  statement.set_previous_event_index(self->events.back().leaf_index);
  *statement.mutable_signed_time() = ToTimestamp(absl::Now());
  return envelope::SignKeyStatement(statement, *signer, new_signing_key);
}

absl::StatusOr<safeshare::v1::PublicKey> AgencyAgent::PublishKey(const envelope::PrivateKey& key) {
  // Keep the private key before publishing: a published key without its
  // private half would strand every message sealed to it.
  if (!keyring_.Find(key.KeyId()).ok()) {
    if (auto st = keyring_.Add(identity_dir_, key); !st.ok()) return st;
  }
  safeshare::v1::KeyStatement statement;
  statement.set_action(safeshare::v1::KeyStatement::ACTION_PUBLISH);
  *statement.mutable_key() = envelope::PublicKeyEntry(key, absl::Now());
  statement.mutable_key()->clear_current();
  // Signed by the current signing key: after a signing rotation, the new one.
  auto signed_statement =
      SignStatement(statement, key.type() == envelope::PrivateKey::Type::kSigning ? &key : nullptr);
  if (!signed_statement.ok()) return signed_statement.status();
  auto entry = client_->PublishKey(*signed_statement);
  directory_cache_.erase(agency_id_);
  if (!entry.ok()) return entry.status();
  return entry->key();
}

absl::StatusOr<std::vector<safeshare::v1::PublicKey>> AgencyAgent::RotateKeys(bool signing,
                                                                              bool encryption) {
  std::vector<safeshare::v1::PublicKey> published;
  for (auto [wanted, type] : {std::pair{signing, envelope::PrivateKey::Type::kSigning},
                              std::pair{encryption, envelope::PrivateKey::Type::kEncryption}}) {
    if (!wanted) continue;
    auto key = envelope::PrivateKey::Generate(type);
    if (!key.ok()) return key.status();
    auto entry = PublishKey(*key);
    if (!entry.ok()) return entry.status();
    published.push_back(*entry);
  }
  return published;
}

absl::StatusOr<safeshare::v1::PublicKey> AgencyAgent::RevokeKey(const std::string& key_id) {
  safeshare::v1::KeyStatement statement;
  statement.set_action(safeshare::v1::KeyStatement::ACTION_REVOKE);
  statement.set_revoke_key_id(key_id);
  auto signed_statement = SignStatement(statement, nullptr);
  if (!signed_statement.ok()) return signed_statement.status();
  auto revoked = client_->RevokeKey(*signed_statement);
  if (!revoked.ok()) return revoked.status();
  directory_cache_.erase(agency_id_);
  return revoked->key();
}

absl::StatusOr<std::vector<AgencyAgent::OwnKeyEvent>> AgencyAgent::MonitorOwnKeys() {
  auto verified = KeyHistory(agency_id_);
  if (!verified.ok()) return verified.status();
  // Reread the keyring: keys rotated by another process since this opened.
  auto ring = Keyring::Load(identity_dir_);
  if (!ring.ok()) return ring.status();
  std::vector<OwnKeyEvent> out;
  for (auto& view : verified->events) {
    OwnKeyEvent judged{std::move(view)};
    const auto& r = judged.event.record;
    const auto& key = r.key_event().key();
    if (r.event() == safeshare::v1::AUDIT_EVENT_TYPE_KEY_REVOKED) {
      if (!r.key_event().has_statement()) {
        judged.made_here = false;
        judged.why = "revoked by the federation file, not by a statement this agency signed";
      } else if (!ring->Find(r.key_event().statement().signing_key_id()).ok()) {
        judged.made_here = false;
        judged.why = "signed with a key this keyring does not hold";
      }
    } else if (!ring->Find(key.key_id()).ok()) {
      judged.made_here = false;
      judged.why = "this keyring does not hold the key: someone else made it";
    }
    out.push_back(std::move(judged));
  }
  return out;
}

}  // namespace safeshare::agents
