#include "gateway/peering/peer_gateway_service.h"

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "envelope/envelope_shape.h"
#include "envelope/key_history.h"
#include "gateway/authentication.h"
#include "gateway/delivery/hand_over.h"
#include "gateway/grpc_status.h"
#include "transparency/checkpoint.h"

namespace safeshare::gateway {
namespace {

absl::StatusOr<Principal> AuthenticatePeer(const grpc::CallbackServerContext& ctx,
                                           const FederationDirectory& directory) {
  auto cert = CallerCertificate(ctx);
  if (!cert.ok()) return cert.status();
  return AuthenticatePeerGatewayCertificate(*cert, directory);
}

}  // namespace

absl::StatusOr<std::shared_ptr<const DirectoryKey>> PeerSenderKey(
    const safeshare::v1::PeerFederation& peer, const std::string& sender_agency_id,
    const safeshare::v1::GetAgencyResponse& sender, const std::string& key_id) {
  if (sender.federation_id() != peer.id() || sender.agency().id() != sender_agency_id) {
    return absl::InvalidArgumentError(absl::StrCat("the forwarded sender keys must be ",
                                                   sender_agency_id, "'s in federation ", peer.id(),
                                                   "'s key log"));
  }
  const auto& log = peer.audit_log();
  auto checkpoint = transparency::VerifyCheckpoint(sender.key_history().checkpoint_note(),
                                                   log.origin(), log.public_key(), log.origin());
  if (!checkpoint.ok()) {
    return absl::UnauthenticatedError(
        absl::StrCat("the sender's key history does not verify under federation ", peer.id(),
                     "'s audit-log key: ", checkpoint.status().message()));
  }
  auto verified =
      envelope::VerifyKeyHistory(peer.id(), sender_agency_id, sender.key_history(), *checkpoint);
  if (!verified.ok()) return verified.status();
  const std::vector<safeshare::v1::PublicKey> served(sender.agency().keys().begin(),
                                                     sender.agency().keys().end());
  if (auto st = envelope::CheckServedKeys(sender_agency_id, served, verified->keys); !st.ok()) {
    return st;
  }
  for (const auto& k : verified->keys) {
    if (k.key_id() != key_id) continue;
    auto key = std::make_shared<DirectoryKey>();
    key->agency_id = sender_agency_id;
    key->key = k;
    if (auto decoded = envelope::SigningPublicKey::FromRaw(k.public_key()); decoded.ok()) {
      key->verifier = *std::move(decoded);
    }
    return key;
  }
  return absl::UnauthenticatedError(
      absl::StrCat("signing key ", key_id, " is not in ", sender_agency_id, "'s key log"));
}

grpc::ServerUnaryReactor* PeerGatewayService::Forward(grpc::CallbackServerContext* ctx,
                                                      const safeshare::v1::ForwardRequest* request,
                                                      safeshare::v1::SubmitResponse* response) {
  auto* reactor = ctx->DefaultReactor();
  const auto directory = directory_->Current();
  auto caller = AuthenticatePeer(*ctx, *directory);
  absl::Status st = caller.status();
  std::string sender;
  std::shared_ptr<const DirectoryKey> key;
  if (st.ok()) {
    auto envelope = envelope::ParseEnvelope(request->signed_envelope().envelope_bytes());
    st = envelope.status();
    if (st.ok()) {
      sender = envelope->sender_agency_id();
      const auto* peer = directory->PeerServing(sender);
      if (peer == nullptr || peer->id() != caller->federation_id) {
        st = absl::PermissionDeniedError(
            absl::StrCat("sender ", sender, " is not an agency of federation ",
                         caller->federation_id, " in this gateway's federation file"));
      } else {
        auto proven = PeerSenderKey(*peer, sender, request->sender(),
                                    request->signed_envelope().signing_key_id());
        st = proven.status();
        if (proven.ok()) key = *std::move(proven);
      }
    }
  }
  if (!st.ok()) {
    LogEvent("warn", "peer.forward_refused",
             {{"caller", caller.ok() ? caller->uri : "unauthenticated"},
              {"code", absl::StatusCodeToString(st.code())}});
    reactor->Finish(ToGrpcStatus(st));
    return reactor;
  }
  Principal forwarded = *caller;
  forwarded.agency_id = sender;  // the envelope's signer, proven above; uri stays the gateway's
  auto submit = std::make_shared<safeshare::v1::SubmitRequest>();
  *submit->mutable_signed_envelope() = request->signed_envelope();
  referrals_->SubmitAsync(
      forwarded, *submit, response,
      [reactor, response, submit](const absl::Status& status) {
        reactor->Finish(ReferralsService::ToSubmitStatus(status, *response));
      },
      key);
  return reactor;
}

grpc::ServerUnaryReactor* PeerGatewayService::GetForwarded(
    grpc::CallbackServerContext* ctx, const safeshare::v1::GetForwardedRequest* request,
    safeshare::v1::GetStatusResponse* response) {
  auto* reactor = ctx->DefaultReactor();
  const auto directory = directory_->Current();
  auto caller = AuthenticatePeer(*ctx, *directory);
  absl::Status st = caller.status();
  if (st.ok()) {
    auto m = store_->GetMessage(request->message_id(), MessageRead::kMetadata);
    const auto* peer = m.ok() ? directory->PeerServing(m->sender_agency_id) : nullptr;
    if (!m.ok() && !absl::IsNotFound(m.status())) {
      st = m.status();
    } else if (peer == nullptr || peer->id() != caller->federation_id) {
      // Absent and another federation's look the same.
      st = absl::NotFoundError(absl::StrCat("federation ", caller->federation_id,
                                            " forwarded no message with id ",
                                            request->message_id()));
    } else {
      ToMessageStatus(*m, response);
    }
  }
  reactor->Finish(ToGrpcStatus(st));
  return reactor;
}

grpc::ServerUnaryReactor* PeerGatewayService::GetAgency(
    grpc::CallbackServerContext* ctx, const safeshare::v1::GetAgencyRequest* request,
    safeshare::v1::GetAgencyResponse* response) {
  auto* reactor = ctx->DefaultReactor();
  const auto directory = directory_->Current();
  absl::Status st = AuthenticatePeer(*ctx, *directory).status();
  if (st.ok()) {
    const auto* agency = directory->FindAgency(request->agency_id());
    st = agency == nullptr
             ? absl::NotFoundError(absl::StrCat("agency ", request->agency_id(),
                                                " is not in federation ", directory->id()))
             : AgencyWithKeys(*agency, *keys_, directory->id(), request->known_tree_size(),
                              response);
  }
  reactor->Finish(ToGrpcStatus(st));
  return reactor;
}

}  // namespace safeshare::gateway
