// The agreements in force, indexed for a decision: which ISA rule, if any,
// covers a declared share, and why none does.
#ifndef SAFESHARE_POLICY_AGREEMENT_INDEX_H_
#define SAFESHARE_POLICY_AGREEMENT_INDEX_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "policy/enum_bits.h"
#include "safeshare/v1/directory.pb.h"
#include "safeshare/v1/envelope.pb.h"
#include "safeshare/v1/isa.pb.h"

namespace safeshare::policy {

// One rule of one agreement, under one index key, with its lists as masks.
struct AgreementCandidate {
  const safeshare::v1::InformationSharingAgreement* isa;
  int specificity;  // 3 agency->agency, 2 agency->area, 1 area->agency, 0 area->area
  uint64_t kinds, bases, categories;
  bool protected_identities_allowed;
  absl::Time from, until;
};

// The agreement rule chosen for a share, or why there is none.
struct AgreementMatch {
  const AgreementCandidate* chosen = nullptr;
  std::string why_none;  // when chosen is null
};

// Agreements indexed by (sender, recipient, purpose), where sender and
// recipient are each an agency or its area: a lookup makes four hash lookups
// whatever the number of agreements. Immutable once built.
class AgreementIndex {
 public:
  // `isas` must be validated already; the federation gives each agency's area.
  AgreementIndex(std::vector<safeshare::v1::InformationSharingAgreement> isas,
                 const safeshare::v1::Federation& federation);
  // Candidates point into isas_: neither copied nor moved.
  AgreementIndex(const AgreementIndex&) = delete;
  AgreementIndex& operator=(const AgreementIndex&) = delete;

  // The best agreement in force for this header at `now`, or why there is
  // none. `declared` is the declared categories as a mask.
  AgreementMatch Find(const safeshare::v1::Envelope& header, absl::Time now,
                      uint64_t declared) const;

  // The agreement with this id, or nullptr.
  const safeshare::v1::InformationSharingAgreement* FindIsa(absl::string_view id) const;
  size_t isa_count() const { return isas_.size(); }

 private:
  std::vector<safeshare::v1::InformationSharingAgreement> isas_;
  absl::flat_hash_map<std::string, std::string> area_of_agency_;
  // Key: "<a|r>:<sender>|<a|r>:<recipient>|<purpose number>".
  absl::flat_hash_map<std::string, std::vector<AgreementCandidate>> index_;
};

// "ISA <id> v<version>", as findings name an agreement.
std::string IsaText(const safeshare::v1::InformationSharingAgreement& isa);
// "2029-04-01", or "2029-04-01 05:07 UTC" when not at midnight.
std::string DateText(absl::Time t);

}  // namespace safeshare::policy

#endif  // SAFESHARE_POLICY_AGREEMENT_INDEX_H_
