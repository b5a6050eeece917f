#include "gateway/federation_directory.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "envelope/envelope_shape.h"
#include "envelope/identity_uri.h"
#include "gateway/text_format_loader.h"

namespace safeshare::gateway {

absl::StatusOr<FederationDirectory> FederationDirectory::Load(const std::string& path,
                                                              const CertificateTrust& trust) {
  safeshare::v1::Federation federation;
  if (absl::Status st = LoadTextProtoFile(path, &federation); !st.ok()) return st;
  const size_t slash = path.rfind('/');
  const std::string base_dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  auto dir = FromProto(std::move(federation), trust, base_dir);
  if (!dir.ok()) {
    return absl::Status(dir.status().code(), absl::StrCat(path, ": ", dir.status().message()));
  }
  return dir;
}

absl::StatusOr<FederationDirectory> FederationDirectory::FromProto(
    safeshare::v1::Federation federation, const CertificateTrust& trust,
    const std::string& base_dir) {
  FederationDirectory dir;
  if (!envelope::IsValidFederationId(federation.id())) {
    return absl::InvalidArgumentError(
        absl::StrCat("federation id '", federation.id(),
                     "' must be [a-z0-9-], 1-64 characters, and not agency, officer or gateway"));
  }
  std::set<std::string> areas;
  for (const auto& area : federation.areas()) {
    if (!envelope::IsValidAgencyId(area.id()) || !areas.insert(area.id()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("area id '", area.id(), "' is malformed or repeated"));
    }
  }
  for (int i = 0; i < federation.agencies_size(); ++i) {
    const auto& agency = federation.agencies(i);
    if (!envelope::IsValidAgencyId(agency.id())) {
      return absl::InvalidArgumentError(
          absl::StrCat("agency id '", agency.id(), "' must be [a-z0-9-], 1-64 characters"));
    }
    if (!areas.count(agency.area_id())) {
      return absl::InvalidArgumentError(
          absl::StrCat("agency ", agency.id(), " names unknown area '", agency.area_id(), "'"));
    }
    if (!dir.agency_index_.emplace(agency.id(), i).second) {
      return absl::InvalidArgumentError(absl::StrCat("agency ", agency.id(), " is listed twice"));
    }
  }
  std::set<std::string> officers;
  for (const auto& officer : federation.officers()) {
    if (!dir.agency_index_.count(officer.agency_id())) {
      return absl::InvalidArgumentError(absl::StrCat(
          "officer ", officer.id(), " belongs to unknown agency '", officer.agency_id(), "'"));
    }
    if (!envelope::IsValidAgencyId(officer.id()) ||
        !officers.insert(officer.agency_id() + "/" + officer.id()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("officer id '", officer.id(), "' is malformed or repeated"));
    }
    if (officer.scope() == safeshare::v1::Officer::SCOPE_UNSPECIFIED) {
      return absl::InvalidArgumentError(
          absl::StrCat("officer ", officer.id(), " must have a scope"));
    }
  }
  for (int i = 0; i < federation.teams_size(); ++i) {
    const auto& team = federation.teams(i);
    if (!envelope::IsValidAgencyId(team.id()) || dir.agency_index_.count(team.id())) {
      return absl::InvalidArgumentError(absl::StrCat(
          "team id '", team.id(), "' must be [a-z0-9-], 1-64 characters, and not an agency id"));
    }
    if (!areas.count(team.area_id())) {
      return absl::InvalidArgumentError(
          absl::StrCat("team ", team.id(), " names unknown area '", team.area_id(), "'"));
    }
    std::set<std::string> members;
    for (const auto& member : team.member_agency_ids()) {
      if (!dir.agency_index_.count(member) || !members.insert(member).second) {
        return absl::InvalidArgumentError(absl::StrCat("team ", team.id(), " member '", member,
                                                       "' is not an agency or is listed twice"));
      }
    }
    if (members.size() < 2) {
      return absl::InvalidArgumentError(
          absl::StrCat("team ", team.id(), " must have at least two member agencies"));
    }
    if (!dir.team_index_.emplace(team.id(), i).second) {
      return absl::InvalidArgumentError(absl::StrCat("team ", team.id(), " is listed twice"));
    }
  }
  auto revocations =
      CertificateRevocations::Load(federation.revoked_certificates(), base_dir, trust.ca_bundle_pem,
                                   trust.now == absl::InfinitePast() ? absl::Now() : trust.now);
  if (!revocations.ok()) return revocations.status();
  dir.revocations_ = *std::move(revocations);
  dir.accept_development_ = trust.accept_development;
  dir.federation_ = std::move(federation);
  return dir;
}

const safeshare::v1::Team* FederationDirectory::FindTeam(const std::string& id) const {
  auto it = team_index_.find(id);
  return it == team_index_.end() ? nullptr : &federation_.teams(it->second);
}

const safeshare::v1::Agency* FederationDirectory::FindAgency(const std::string& id) const {
  auto it = agency_index_.find(id);
  return it == agency_index_.end() ? nullptr : &federation_.agencies(it->second);
}

const safeshare::v1::Officer* FederationDirectory::FindOfficer(
    const std::string& agency_id, const std::string& officer_id) const {
  for (const auto& o : federation_.officers()) {
    if (o.agency_id() == agency_id && o.id() == officer_id) return &o;
  }
  return nullptr;
}

}  // namespace safeshare::gateway
