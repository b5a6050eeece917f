#ifndef SAFESHARE_POLICY_ISA_H_
#define SAFESHARE_POLICY_ISA_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "safeshare/v1/directory.pb.h"
#include "safeshare/v1/isa.pb.h"

namespace safeshare::policy {

// A validated set of information sharing agreements: unique ids, each
// agreement well formed (see ValidateIsa).
struct IsaSet {
  std::vector<safeshare::v1::InformationSharingAgreement> agreements;
};

// Parses proto3 JSON into `message` (unknown fields and enum names are
// errors). INVALID_ARGUMENT "field.path: reason".
absl::Status ParseProtoJson(absl::string_view json, google::protobuf::Message* message);

// Parses one agreement in the proto3 JSON mapping (unknown fields and unknown
// enum names are errors). INVALID_ARGUMENT "field: reason", e.g.
// "rules[2].data_categories[0]: invalid value ...".
absl::StatusOr<safeshare::v1::InformationSharingAgreement> ParseIsaJson(absl::string_view json);

// Checks one agreement: id, title and version present; parties present,
// unique and (when `federation` is given) known; in_force_from before
// review_by; every rule complete, its enums valid and its senders and
// recipients among the parties; a retention period. INVALID_ARGUMENT
// "field: reason", e.g. "rules[1].senders[0]: agency 'x' is not a party".
absl::Status ValidateIsa(const safeshare::v1::InformationSharingAgreement& isa,
                         const safeshare::v1::Federation* federation);

// Loads every *.json file in `dir` (other files are ignored), one agreement a
// file, validates each and checks ids are unique across files. NOT_FOUND if
// `dir` cannot be listed; otherwise INVALID_ARGUMENT listing one line per bad
// file, "path: field: reason". A directory without agreements is refused, so
// that an emptied directory cannot silently replace a working policy.
absl::StatusOr<IsaSet> LoadIsaDirectory(const std::string& dir,
                                        const safeshare::v1::Federation* federation = nullptr);

}  // namespace safeshare::policy

#endif  // SAFESHARE_POLICY_ISA_H_
