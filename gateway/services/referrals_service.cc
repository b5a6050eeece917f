#include "gateway/services/referrals_service.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "envelope/digest.h"
#include "envelope/envelope_shape.h"
#include "envelope/sealing.h"
#include "gateway/log.h"
#include "gateway/services/caller.h"
#include "google/protobuf/any.pb.h"
#include "google/rpc/status.pb.h"

namespace safeshare::gateway {

using safeshare::v1::SubmitRequest;
using safeshare::v1::SubmitResponse;

namespace {

// What the sender must fix, from the findings that failed.
absl::Status DeniedStatus(const SubmitResponse& receipt) {
  const auto& d = receipt.decision();
  std::string why;
  for (const auto& f : d.findings()) {
    if (f.outcome() != safeshare::v1::FINDING_OUTCOME_FAIL) continue;
    absl::StrAppend(&why, why.empty() ? "" : "; ", f.check(), " (", f.rule(), "): ", f.reason());
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "not shared: the declaration fails ", d.rule_pack(), " ", d.rule_pack_version(),
      d.isa_id().empty() ? std::string() : absl::StrCat(" under ", d.isa_id(), " v", d.isa_version()),
      ": ", why));
}

// A refused Submit still carries its receipt, in the standard rich error
// details (grpc-status-details-bin).
grpc::Status WithReceipt(const absl::Status& status, const SubmitResponse& receipt) {
  google::rpc::Status rich;
  rich.set_code(static_cast<int>(status.code()));
  rich.set_message(std::string(status.message()));
  rich.add_details()->PackFrom(receipt);
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()),
                      rich.SerializeAsString());
}

}  // namespace

grpc::ServerUnaryReactor* ReferralsService::Submit(grpc::CallbackServerContext* ctx,
                                                   const SubmitRequest* request,
                                                   SubmitResponse* response) {
  auto* reactor = ctx->DefaultReactor();
  absl::Status status;
  auto caller = AuthenticateAgency(*ctx, *directory_);
  if (!caller.ok()) {
    status = caller.status();
  } else {
    status = DoSubmit(*caller, *request, response);
  }
  if (!status.ok()) {
    LogEvent("warn", "submit.refused",
             {{"caller", caller.ok() ? caller->uri : std::string("unauthenticated")},
              {"code", absl::StatusCodeToString(status.code())}});
  }
  if (!status.ok() && response->state() == safeshare::v1::MESSAGE_STATE_REFUSED) {
    reactor->Finish(WithReceipt(status, *response));
  } else {
    reactor->Finish(ToGrpcStatus(status));
  }
  return reactor;
}

absl::Status ReferralsService::DoSubmit(const Principal& caller, const SubmitRequest& request,
                                        SubmitResponse* response) {
  const auto& signed_envelope = request.signed_envelope();
  const size_t size = signed_envelope.ByteSizeLong();
  if (size > max_message_bytes_) {
    return absl::ResourceExhaustedError(
        absl::StrCat("signed envelope is ", size, " bytes; this gateway accepts at most ",
                     max_message_bytes_, " bytes"));
  }
  auto envelope = envelope::ParseEnvelope(signed_envelope.envelope_bytes());
  if (!envelope.ok()) return envelope.status();
  if (absl::Status st = envelope::ValidateEnvelopeShape(*envelope); !st.ok()) return st;
  if (absl::Status st = envelope::ValidateSealedShape(signed_envelope, *envelope); !st.ok()) {
    return st;
  }

  if (envelope->sender_agency_id() != caller.agency_id) {
    return absl::PermissionDeniedError(absl::StrCat(
        "envelope.sender_agency_id is ", envelope->sender_agency_id(),
        " but the client certificate belongs to ", caller.agency_id));
  }
  const auto* recipient = directory_->FindAgency(envelope->recipient_agency_id());
  if (recipient == nullptr) {
    return absl::NotFoundError(absl::StrCat("recipient agency ", envelope->recipient_agency_id(),
                                            " is not in the federation directory"));
  }
  if (recipient->revoked()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "recipient agency ", recipient->id(), " has been revoked and cannot receive messages"));
  }

  if (absl::Status st = VerifySealing(signed_envelope, *envelope); !st.ok()) return st;

  const absl::Time now = absl::Now();
  std::shared_ptr<const policy::PolicyEngine> engine = policy_->Current();
  if (engine == nullptr) return absl::UnavailableError("no sharing policy is loaded");
  safeshare::v1::PolicyDecision decision = engine->Decide(*envelope, now, pack_);

  StoredMessage m;
  m.message_id = envelope->message_id();
  m.sender_agency_id = caller.agency_id;
  m.recipient_agency_id = recipient->id();
  m.kind = envelope->kind();
  m.envelope_sha256 = envelope::Sha256(signed_envelope.envelope_bytes());
  m.accepted_time = now;
  switch (decision.decision()) {
    case safeshare::v1::DECISION_ALLOW:
      m.state = safeshare::v1::MESSAGE_STATE_SUBMITTED;
      m.signed_envelope = signed_envelope.SerializeAsString();
      break;
    case safeshare::v1::DECISION_HOLD_FOR_ADVICE:
      // Kept out of the mailbox until an IG officer decides.
      m.state = safeshare::v1::MESSAGE_STATE_HELD;
      m.signed_envelope = signed_envelope.SerializeAsString();
      break;
    default:
      // Refused: the sealed content is not kept; the decision is.
      m.state = safeshare::v1::MESSAGE_STATE_REFUSED;
      break;
  }

  SubmitResponse receipt;
  receipt.set_message_id(m.message_id);
  receipt.set_state(m.state);
  *receipt.mutable_decision() = std::move(decision);
  *receipt.mutable_accepted_time() = ToTimestamp(now);
  receipt.set_envelope_sha256(m.envelope_sha256);
  m.receipt = receipt.SerializeAsString();

  auto inserted = store_->InsertMessage(m);
  if (!inserted.ok()) {
    LogEvent("error", "store.write_failed",
             {{"message_id", m.message_id},
              {"code", absl::StatusCodeToString(inserted.status().code())},
              {"detail", std::string(inserted.status().message())}});
    return inserted.status();
  }
  if (!inserted->inserted) {
    const StoredMessage& first = inserted->message;
    if (first.sender_agency_id != caller.agency_id ||
        first.envelope_sha256 != m.envelope_sha256) {
      return absl::AlreadyExistsError(absl::StrCat(
          "message id ", m.message_id,
          " was already used for a different envelope; choose a new message id"));
    }
    if (!response->ParseFromString(first.receipt)) {
      return absl::DataLossError(absl::StrCat("stored receipt for ", m.message_id, " is corrupt"));
    }
    LogEvent("info", "submit.duplicate", {{"message_id", m.message_id}});
    return response->state() == safeshare::v1::MESSAGE_STATE_REFUSED ? DeniedStatus(*response)
                                                                       : absl::OkStatus();
  }
  *response = std::move(receipt);
  if (response->state() == safeshare::v1::MESSAGE_STATE_REFUSED) {
    LogEvent("info", "submit.denied",
             {{"message_id", m.message_id},
              {"sender", m.sender_agency_id},
              {"recipient", m.recipient_agency_id},
              {"isa", response->decision().isa_id()}});
    return DeniedStatus(*response);
  }
  LogEvent("info", m.state == safeshare::v1::MESSAGE_STATE_HELD ? "submit.held" : "submit.accepted",
           {{"message_id", m.message_id},
            {"sender", m.sender_agency_id},
            {"recipient", m.recipient_agency_id},
            {"kind", safeshare::v1::MessageKind_Name(m.kind)},
            {"isa", response->decision().isa_id()},
            {"bytes", absl::StrCat(size)}});
  return absl::OkStatus();
}

absl::Status ReferralsService::VerifySealing(const safeshare::v1::SignedEnvelope& signed_envelope,
                                            const safeshare::v1::Envelope& envelope) const {
  const std::string& sender = envelope.sender_agency_id();
  auto signing = keys_->Find(signed_envelope.signing_key_id());
  if (!signing.has_value()) {
    return absl::UnauthenticatedError(absl::StrCat(
        "signing key ", signed_envelope.signing_key_id(), " is not in the directory"));
  }
  if (signing->agency_id != sender) {
    return absl::PermissionDeniedError(absl::StrCat(
        "signing key ", signed_envelope.signing_key_id(), " belongs to ", signing->agency_id,
        ", not to the sender ", sender));
  }
  if (signing->key.purpose() != safeshare::v1::KEY_PURPOSE_SIGNING) {
    return absl::PermissionDeniedError(
        absl::StrCat("key ", signed_envelope.signing_key_id(), " is not a signing key"));
  }
  if (signing->key.revoked()) {
    return absl::PermissionDeniedError(absl::StrCat(
        "signing key ", signed_envelope.signing_key_id(), " of ", sender,
        " has been revoked; sign with the agency's current key"));
  }
  // The exact bytes received, never a re-serialization.
  if (absl::Status st = envelope::VerifySignature(signed_envelope, signing->key.public_key());
      !st.ok()) {
    return st;
  }
  auto current = keys_->Current(envelope.recipient_agency_id(),
                                safeshare::v1::KEY_PURPOSE_ENCRYPTION);
  if (!current.has_value()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "recipient ", envelope.recipient_agency_id(), " has no current encryption key"));
  }
  if (envelope.payload().recipient_key_id() != current->key_id()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "payload is sealed to key ", envelope.payload().recipient_key_id(), " but ",
        envelope.recipient_agency_id(), "'s current encryption key is ", current->key_id(),
        "; refresh the directory and seal again"));
  }
  return absl::OkStatus();
}

}  // namespace safeshare::gateway
