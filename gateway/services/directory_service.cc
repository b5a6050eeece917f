#include "gateway/services/directory_service.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gateway/services/caller.h"

namespace safeshare::gateway {

grpc::ServerUnaryReactor* DirectoryService::ListAgencies(
    grpc::CallbackServerContext* ctx, const safeshare::v1::ListAgenciesRequest* request,
    safeshare::v1::ListAgenciesResponse* response) {
  auto* reactor = ctx->DefaultReactor();
  absl::Status st = AuthenticateCaller(*ctx, *directory_).status();
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
    const auto& agencies = directory_->federation().agencies();
    int i = start;
    for (; i < agencies.size() && response->agencies_size() < page; ++i) {
      if (!request->area_id().empty() && agencies[i].area_id() != request->area_id()) continue;
      *response->add_agencies() = agencies[i];
    }
    if (i < agencies.size()) response->set_next_page_token(absl::StrCat(i));
  }
  reactor->Finish(ToGrpcStatus(st));
  return reactor;
}

grpc::ServerUnaryReactor* DirectoryService::GetAgency(
    grpc::CallbackServerContext* ctx, const safeshare::v1::GetAgencyRequest* request,
    safeshare::v1::GetAgencyResponse* response) {
  auto* reactor = ctx->DefaultReactor();
  absl::Status st = AuthenticateCaller(*ctx, *directory_).status();
  if (st.ok()) {
    const auto* agency = directory_->FindAgency(request->agency_id());
    if (agency == nullptr) {
      st = absl::NotFoundError(
          absl::StrCat("agency ", request->agency_id(), " is not in the federation directory"));
    } else {
      *response->mutable_agency() = *agency;
    }
  }
  reactor->Finish(ToGrpcStatus(st));
  return reactor;
}

grpc::ServerUnaryReactor* DirectoryService::ListAreas(
    grpc::CallbackServerContext* ctx, const safeshare::v1::ListAreasRequest* request,
    safeshare::v1::ListAreasResponse* response) {
  auto* reactor = ctx->DefaultReactor();
  absl::Status st = AuthenticateCaller(*ctx, *directory_).status();
  if (st.ok()) *response->mutable_areas() = directory_->federation().areas();
  reactor->Finish(ToGrpcStatus(st));
  return reactor;
}

}  // namespace safeshare::gateway
