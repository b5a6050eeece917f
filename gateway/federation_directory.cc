#include "gateway/federation_directory.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/files.h"
#include "envelope/envelope_shape.h"
#include "envelope/identity_uri.h"
#include "gateway/peer_certificate.h"
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
  if (absl::Status st = dir.LoadPeers(federation, trust, base_dir, areas); !st.ok()) return st;
  auto revocations =
      CertificateRevocations::Load(federation.revoked_certificates(), base_dir, trust.ca_bundle_pem,
                                   trust.now == absl::InfinitePast() ? absl::Now() : trust.now);
  if (!revocations.ok()) return revocations.status();
  dir.revocations_ = *std::move(revocations);
  dir.accept_development_ = trust.accept_development;
  dir.federation_ = std::move(federation);
  dir.policy_view_ = dir.federation_;
  dir.policy_view_.clear_peers();
  std::set<std::string> view_areas = areas;
  for (const auto& peer : dir.federation_.peers()) {
    for (const auto& area : peer.areas()) {
      if (view_areas.insert(area.id()).second) *dir.policy_view_.add_areas() = area;
    }
    for (const auto& agency : peer.agencies()) *dir.policy_view_.add_agencies() = agency;
  }
  return dir;
}

absl::Status FederationDirectory::LoadPeers(const safeshare::v1::Federation& federation,
                                            const CertificateTrust& trust,
                                            const std::string& base_dir,
                                            const std::set<std::string>& own_areas) {
  std::set<std::string> issuers;
  if (!trust.ca_bundle_pem.empty()) {
    auto own = SubjectNamesOf(trust.ca_bundle_pem);
    if (!own.ok()) return absl::InvalidArgumentError("tls.ca_cert_file holds no certificate");
    own_issuers_ = *std::move(own);
    issuers.insert(own_issuers_.begin(), own_issuers_.end());
  }
  for (int p = 0; p < federation.peers_size(); ++p) {
    const auto& peer = federation.peers(p);
    const std::string where = absl::StrCat("peer federation '", peer.id(), "'");
    if (!envelope::IsValidFederationId(peer.id()) || peer.id() == federation.id() ||
        !peer_index_.emplace(peer.id(), p).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": the id must be a well-formed federation id, not this federation's, once"));
    }
    if (peer.gateway_address().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": gateway_address (host:port) is required"));
    }
    if (peer.audit_log().origin().empty() || peer.audit_log().public_key().size() != 32) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": audit_log needs its origin and its 32-byte Ed25519 public key"));
    }
    auto ca = peer.ca_file().empty() ? absl::NotFoundError("")
                                     : ReadFile(PathRelativeTo(base_dir, peer.ca_file()));
    if (!ca.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": ca_file '", peer.ca_file(), "' cannot be read"));
    }
    auto names = SubjectNamesOf(*ca);
    if (!names.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": ca_file '", peer.ca_file(), "' ", names.status().message()));
    }
    for (const auto& name : *names) {
      // Which CA issued a certificate decides what it may stand for, so no
      // two federations may share a CA name.
      if (!issuers.insert(name).second) {
        return absl::InvalidArgumentError(absl::StrCat(
            where,
            ": its CA has the same name as this federation's or another peer's CA; each "
            "federation needs its own CA"));
      }
    }
    peer_ca_pem_[peer.id()] = *std::move(ca);
    peer_issuers_[peer.id()] = *std::move(names);
    std::set<std::string> peer_areas;
    for (const auto& area : peer.areas()) {
      if (!envelope::IsValidAgencyId(area.id()) || !peer_areas.insert(area.id()).second) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": area id '", area.id(), "' is malformed or repeated"));
      }
    }
    for (int a = 0; a < peer.agencies_size(); ++a) {
      const auto& agency = peer.agencies(a);
      if (!envelope::IsValidAgencyId(agency.id())) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": agency id '", agency.id(),
                                                       "' must be [a-z0-9-], 1-64 characters"));
      }
      if (!peer_areas.count(agency.area_id()) && !own_areas.count(agency.area_id())) {
        return absl::InvalidArgumentError(absl::StrCat(
            where, ": agency ", agency.id(), " names unknown area '", agency.area_id(), "'"));
      }
      if (!agency.keys().empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": agency ", agency.id(),
                         " lists keys; a peer agency's keys come from its gateway's key log only"));
      }
      if (agency_index_.count(agency.id()) || team_index_.count(agency.id()) ||
          !peer_agency_index_.emplace(agency.id(), std::make_pair(p, a)).second) {
        return absl::InvalidArgumentError(absl::StrCat(
            where, ": agency id ", agency.id(),
            " is already used here or by another peer; agency ids must be unique across peers"));
      }
    }
  }
  return absl::OkStatus();
}

const safeshare::v1::PeerFederation* FederationDirectory::FindPeer(
    const std::string& federation_id) const {
  auto it = peer_index_.find(federation_id);
  return it == peer_index_.end() ? nullptr : &federation_.peers(it->second);
}

const safeshare::v1::PeerFederation* FederationDirectory::PeerServing(
    const std::string& agency_id) const {
  auto it = peer_agency_index_.find(agency_id);
  return it == peer_agency_index_.end() ? nullptr : &federation_.peers(it->second.first);
}

const safeshare::v1::Agency* FederationDirectory::FindAnyAgency(const std::string& id) const {
  if (const auto* own = FindAgency(id)) return own;
  auto it = peer_agency_index_.find(id);
  return it == peer_agency_index_.end()
             ? nullptr
             : &federation_.peers(it->second.first).agencies(it->second.second);
}

std::string FederationDirectory::PeerCaPem(const std::string& federation_id) const {
  auto it = peer_ca_pem_.find(federation_id);
  return it == peer_ca_pem_.end() ? std::string() : it->second;
}

bool FederationDirectory::IssuedByOwnCa(const std::string& issuer_der) const {
  return own_issuers_.empty() ||
         std::find(own_issuers_.begin(), own_issuers_.end(), issuer_der) != own_issuers_.end();
}

bool FederationDirectory::IssuedByPeerCa(const std::string& federation_id,
                                         const std::string& issuer_der) const {
  auto it = peer_issuers_.find(federation_id);
  return it != peer_issuers_.end() &&
         std::find(it->second.begin(), it->second.end(), issuer_der) != it->second.end();
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
