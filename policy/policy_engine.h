#ifndef SAFESHARE_POLICY_POLICY_ENGINE_H_
#define SAFESHARE_POLICY_POLICY_ENGINE_H_

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "policy/agreement_index.h"
#include "policy/isa.h"
#include "safeshare/v1/directory.pb.h"
#include "safeshare/v1/envelope.pb.h"
#include "safeshare/v1/policy.pb.h"

namespace safeshare::policy {

// The edition of the Seven Golden Rules a decision is made under. All are
// kept so that old decisions can be replayed. 2026 is the 2024 advice plus
// the law since (docs/domain.md, "Rule pack 2026"), each change from its
// commencement date; it is the default.
enum class RulePack { k2018, k2024, k2026 };
inline constexpr RulePack kDefaultRulePack = RulePack::k2026;

// "golden-rules-2018" / "-2024" / "-2026", and the pack's version, e.g.
// "2026.1". Both are written into every decision and audit record.
absl::string_view RulePackName(RulePack pack);
absl::string_view RulePackVersion(RulePack pack);
// Accepts "2018", "2024", "2026" or a pack name; false for anything else.
bool ParseRulePack(absl::string_view text, RulePack* pack);

// When rule pack 2026's dated rules come into force: `configured` with the
// documented defaults filled in (safeshare.v1.RuleCommencement). nullopt:
// not in force.
struct Commencement {
  std::optional<absl::Time> recognised_legitimate_interest;
  std::optional<absl::Time> duty_to_share;
  std::optional<absl::Time> consistent_identifier;
  std::optional<absl::Time> operation_encompass_duty;
};
Commencement ResolveCommencement(const safeshare::v1::RuleCommencement& configured);

// The names of the checks, in the order findings are returned (the table of
// checks in golden_rules.cc is checked against it when compiled).
inline constexpr const char* kChecks[] = {
    "lawful_basis", "openness",           "consent",
    "advice",       "protect_identities", "necessity_proportionality",
    "record"};

// Begins the reason of a finding that passed only because the message is
// immediate: it goes ahead and is reviewed by an IG officer afterwards.
inline constexpr absl::string_view kFlaggedForReview = "Flagged for IG review: ";

// True when any finding of `decision` carries kFlaggedForReview: the share
// went ahead at immediate urgency and an IG officer must review it.
bool NeedsReview(const safeshare::v1::PolicyDecision& decision);

// Decides whether a declared share may go ahead: the Seven Golden Rules (see
// docs/domain.md) as a table of named checks (golden_rules.h), against the
// agreements in force (agreement_index.h). The design is in
// docs/architecture.md.
//
// Immutable once created, so Decide may be called from any number of threads.
// Agreements are indexed by (sender, recipient, purpose), where sender and
// recipient are each an agency or its area: a decision makes four hash
// lookups whatever the number of agreements.
class PolicyEngine {
 public:
  // `isas` is checked again against `federation` (unknown agencies or areas
  // are INVALID_ARGUMENT naming the agreement and field). The federation gives
  // each agency's area.
  static absl::StatusOr<std::unique_ptr<PolicyEngine>> Create(
      IsaSet isas, const safeshare::v1::Federation& federation,
      const safeshare::v1::RuleCommencement& commencement = {});

  PolicyEngine(const PolicyEngine&) = delete;
  PolicyEngine& operator=(const PolicyEngine&) = delete;

  // Decides on an envelope header: kind, sender_agency_id,
  // sender_practitioner, recipient_agency_id and declaration are read; the
  // payload is ignored. Returns the decision, one finding per check in the
  // order of kChecks, the rule pack and version, and the agreement applied
  // (isa_id empty when none is in force).
  //
  // Decision: any FAIL -> DENY; else any ADVICE -> HOLD_FOR_ADVICE; else
  // ALLOW. At URGENCY_IMMEDIATE no check returns ADVICE: what would have been
  // held passes with a reason beginning with kFlaggedForReview, so that an
  // IG officer reviews it after the fact and the child is not left at risk.
  //
  // `request`, for an INFORMATION_RESPONSE, is the declaration of the request
  // it answers: categories shared beyond those asked for need an IG officer's
  // advice (proportionality), though the ISA remains the hard limit.
  safeshare::v1::PolicyDecision Decide(
      const safeshare::v1::Envelope& header, absl::Time now, RulePack pack = kDefaultRulePack,
      const safeshare::v1::SharingDeclaration* request = nullptr) const;

  // The agreement with this id, or nullptr (e.g. for its retention period).
  const safeshare::v1::InformationSharingAgreement* FindIsa(absl::string_view id) const;
  size_t isa_count() const { return agreements_.isa_count(); }

 private:
  PolicyEngine(std::vector<safeshare::v1::InformationSharingAgreement> isas,
               const safeshare::v1::Federation& federation, Commencement commencement);

  const AgreementIndex agreements_;
  const Commencement commencement_;
  // Agencies that are not public authorities (may rely on Art 6(1)(ea)).
  absl::flat_hash_set<std::string> not_public_authorities_;
  // Each agency's directory roles (bit n for AgencyRole n).
  absl::flat_hash_map<std::string, uint64_t> roles_;
};

}  // namespace safeshare::policy

#endif  // SAFESHARE_POLICY_POLICY_ENGINE_H_
