#include "gateway/services/directory_service.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/log.h"
#include "gateway/authentication.h"
#include "gateway/grpc_status.h"
#include "gateway/reply_budget.h"

namespace safeshare::gateway {

grpc::ServerUnaryReactor* DirectoryService::ListAgencies(
    grpc::CallbackServerContext* ctx, const safeshare::v1::ListAgenciesRequest* request,
    safeshare::v1::ListAgenciesResponse* response) {
  auto* reactor = ctx->DefaultReactor();
  const auto directory = directory_->Current();
  absl::Status st = AuthenticateCaller(*ctx, *directory).status();
  int start = 0;
  if (st.ok() && !request->page_token().empty() &&
      (!absl::SimpleAtoi(request->page_token(), &start) || start < 0)) {
    st = absl::InvalidArgumentError("page_token is not one this gateway issued");
  }
  if (st.ok() && request->page_size() < 0) {
    st = absl::InvalidArgumentError("page_size must not be negative");
  }
  if (st.ok()) {
    const int page = request->page_size() == 0 ? 100 : std::min(request->page_size(), 1000);
    const auto& agencies = directory->federation().agencies();
    ReplyBudget budget(max_reply_bytes_);
    int i = start;
    for (; i < agencies.size() && response->agencies_size() < page; ++i) {
      if (!request->area_id().empty() && agencies[i].area_id() != request->area_id()) continue;
      safeshare::v1::Agency agency = WithKeys(agencies[i]);
      const size_t bytes = agency.ByteSizeLong();
      if (!budget.Take(bytes)) {
        if (response->agencies_size() == 0) {
          st = OverReplyLimit(absl::StrCat("agency ", agencies[i].id()), bytes, budget.max_bytes());
        }
        break;  // the token below resumes at this agency
      }
      *response->add_agencies() = std::move(agency);
    }
    if (st.ok() && i < agencies.size()) response->set_next_page_token(absl::StrCat(i));
    if (!st.ok()) response->Clear();
  }
  reactor->Finish(ToGrpcStatus(st));
  return reactor;
}

grpc::ServerUnaryReactor* DirectoryService::GetAgency(
    grpc::CallbackServerContext* ctx, const safeshare::v1::GetAgencyRequest* request,
    safeshare::v1::GetAgencyResponse* response) {
  auto* reactor = ctx->DefaultReactor();
  const auto directory = directory_->Current();
  absl::Status st = AuthenticateCaller(*ctx, *directory).status();
  const auto* peer = directory->PeerServing(request->agency_id());
  if (st.ok() && peer != nullptr && peers_ != nullptr) {
    auto stub = peers_->For(*directory, peer->id());
    if (stub.ok()) {
      struct Call {
        grpc::ClientContext ctx;
        safeshare::v1::GetAgencyRequest request;
      };
      auto call = std::make_shared<Call>();
      call->ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
      call->request = *request;
      const std::string peer_id = peer->id();
      (*stub)->async()->GetAgency(
          &call->ctx, &call->request, response,
          [this, reactor, call, stub = *stub, response, peer_id](grpc::Status s) {
            if (s.ok() && response->federation_id() != peer_id) {
              s = grpc::Status(grpc::StatusCode::UNAVAILABLE, "");
            }
            const std::string& id = call->request.agency_id();
            if (s.ok()) {
              absl::MutexLock lock(&peer_answers_mu_);
              peer_answers_[id] = *response;
            } else if (s.error_code() == grpc::StatusCode::UNAVAILABLE ||
                       s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
              absl::MutexLock lock(&peer_answers_mu_);
              if (auto it = peer_answers_.find(id); it != peer_answers_.end()) {
                *response = it->second;
                s = grpc::Status::OK;
              }
            }
            if (!s.ok()) {
              response->Clear();
              s = grpc::Status(
                  s.error_code(),
                  absl::StrCat("the gateway of federation ", peer_id, ", which serves ",
                               call->request.agency_id(), ", answered: ", s.error_message()));
            }
            reactor->Finish(s);
          });
      return reactor;
    }
    st = stub.status();
  }
  if (st.ok()) {
    const auto* agency = directory->FindAgency(request->agency_id());
    if (agency == nullptr) {
      st = absl::NotFoundError(
          absl::StrCat("agency ", request->agency_id(), " is not in the federation directory"));
    } else if (st = AgencyWithKeys(*agency, *keys_, directory->id(), request->known_tree_size(),
                                   response);
               st.ok()) {
      if (response->ByteSizeLong() > max_reply_bytes_) {
        st = OverReplyLimit(absl::StrCat("agency ", agency->id()), response->ByteSizeLong(),
                            max_reply_bytes_);
        response->Clear();
      }
    }
  }
  reactor->Finish(ToGrpcStatus(st));
  return reactor;
}

grpc::ServerUnaryReactor* DirectoryService::GetTeam(grpc::CallbackServerContext* ctx,
                                                    const safeshare::v1::GetTeamRequest* request,
                                                    safeshare::v1::GetTeamResponse* response) {
  auto* reactor = ctx->DefaultReactor();
  const auto directory = directory_->Current();
  absl::Status st = AuthenticateCaller(*ctx, *directory).status();
  if (st.ok()) {
    if (const auto* team = directory->FindTeam(request->team_id())) {
      *response->mutable_team() = *team;
    } else {
      st = absl::NotFoundError(
          absl::StrCat("team ", request->team_id(), " is not in the federation directory"));
    }
  }
  reactor->Finish(ToGrpcStatus(st));
  return reactor;
}

grpc::ServerUnaryReactor* DirectoryService::ListAreas(
    grpc::CallbackServerContext* ctx, const safeshare::v1::ListAreasRequest* request,
    safeshare::v1::ListAreasResponse* response) {
  auto* reactor = ctx->DefaultReactor();
  const auto directory = directory_->Current();
  absl::Status st = AuthenticateCaller(*ctx, *directory).status();
  if (st.ok()) {
    *response->mutable_areas() = directory->federation().areas();
    // The operator's own file, but still never a reply an agent cannot read.
    if (response->ByteSizeLong() > max_reply_bytes_) {
      st = OverReplyLimit("the list of areas", response->ByteSizeLong(), max_reply_bytes_);
      response->Clear();
    }
  }
  reactor->Finish(ToGrpcStatus(st));
  return reactor;
}

safeshare::v1::Agency DirectoryService::WithKeys(const safeshare::v1::Agency& agency) const {
  safeshare::v1::Agency out = agency;
  out.clear_keys();
  for (auto& k : keys_->KeysOf(agency.id())) *out.add_keys() = std::move(k);
  return out;
}

grpc::ServerUnaryReactor* DirectoryService::PublishKey(
    grpc::CallbackServerContext* ctx, const safeshare::v1::PublishKeyRequest* request,
    safeshare::v1::PublishKeyResponse* response) {
  auto* reactor = ctx->DefaultReactor();
  const auto directory = directory_->Current();
  auto caller = AuthenticateAgency(*ctx, *directory);
  absl::Status st = caller.status();
  if (st.ok()) {
    auto change =
        keys_->Apply(caller->agency_id, caller->uri, safeshare::v1::KeyStatement::ACTION_PUBLISH,
                     request->statement(), *directory, absl::Now());
    st = change.status();
    if (change.ok()) {
      *response->mutable_key() = change->key;
      response->set_event_index(change->event_index);
      LogEvent("info", "directory.key_published",
               {{"agency", caller->agency_id},
                {"key_id", change->key.key_id()},
                {"purpose", safeshare::v1::KeyPurpose_Name(change->key.purpose())},
                {"event_index", absl::StrCat(change->event_index)}});
    } else {
      LogEvent("warn", "directory.key_change_refused",
               {{"agency", caller->agency_id}, {"code", absl::StatusCodeToString(st.code())}});
    }
  }
  reactor->Finish(ToGrpcStatus(st));
  return reactor;
}

grpc::ServerUnaryReactor* DirectoryService::RevokeKey(
    grpc::CallbackServerContext* ctx, const safeshare::v1::RevokeKeyRequest* request,
    safeshare::v1::RevokeKeyResponse* response) {
  auto* reactor = ctx->DefaultReactor();
  const auto directory = directory_->Current();
  auto caller = AuthenticateAgency(*ctx, *directory);
  absl::Status st = caller.status();
  if (st.ok()) {
    auto change =
        keys_->Apply(caller->agency_id, caller->uri, safeshare::v1::KeyStatement::ACTION_REVOKE,
                     request->statement(), *directory, absl::Now());
    st = change.status();
    if (change.ok()) {
      *response->mutable_key() = change->key;
      response->set_event_index(change->event_index);
      LogEvent("warn", "directory.key_revoked",
               {{"agency", caller->agency_id},
                {"key_id", change->key.key_id()},
                {"event_index", absl::StrCat(change->event_index)}});
    } else {
      LogEvent("warn", "directory.key_change_refused",
               {{"agency", caller->agency_id}, {"code", absl::StatusCodeToString(st.code())}});
    }
  }
  reactor->Finish(ToGrpcStatus(st));
  return reactor;
}

}  // namespace safeshare::gateway
