#include "gateway/officer_scope.h"

namespace safeshare::gateway {

absl::StatusOr<std::vector<std::string>> OfficerScope(const Principal& officer,
                                                      const FederationDirectory& directory) {
  const auto* entry = directory.FindOfficer(officer.agency_id, officer.officer_id);
  if (entry == nullptr) return absl::PermissionDeniedError("officer is not registered");
  switch (entry->scope()) {
    case safeshare::v1::Officer::SCOPE_AGENCY:
      return std::vector<std::string>{officer.agency_id};
    case safeshare::v1::Officer::SCOPE_AREA: {
      std::vector<std::string> out;
      const auto* own = directory.FindAgency(officer.agency_id);
      for (const auto& a : directory.federation().agencies()) {
        if (own != nullptr && a.area_id() == own->area_id()) out.push_back(a.id());
      }
      return out;
    }
    case safeshare::v1::Officer::SCOPE_FEDERATION:
      return std::vector<std::string>{};
    default:
      return absl::PermissionDeniedError("officer has no scope");
  }
}

}  // namespace safeshare::gateway
