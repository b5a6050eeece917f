#ifndef SAFESHARE_GATEWAY_FEDERATION_DIRECTORY_H_
#define SAFESHARE_GATEWAY_FEDERATION_DIRECTORY_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "safeshare/v1/directory.pb.h"

namespace safeshare::gateway {

// The federation's members, loaded once from the federation file and read-only
// afterwards (safe to share across threads).
class FederationDirectory {
 public:
  // Loads and validates a Federation text proto: unique ids, known areas,
  // well-formed agency ids. INVALID_ARGUMENT names the file and the problem.
  static absl::StatusOr<FederationDirectory> Load(const std::string& path);
  static absl::StatusOr<FederationDirectory> FromProto(safeshare::v1::Federation federation);

  // The agency, or nullptr if unknown.
  const safeshare::v1::Agency* FindAgency(const std::string& id) const;
  const safeshare::v1::Officer* FindOfficer(const std::string& agency_id,
                                            const std::string& officer_id) const;
  const safeshare::v1::Federation& federation() const { return federation_; }

 private:
  safeshare::v1::Federation federation_;
  std::map<std::string, int> agency_index_;
};

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_FEDERATION_DIRECTORY_H_
