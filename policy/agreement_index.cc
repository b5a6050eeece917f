#include "policy/agreement_index.h"

#include <algorithm>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "common/enum_text.h"

namespace safeshare::policy {
namespace {

namespace v1 = safeshare::v1;

absl::Time ToTime(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

std::string PartyKey(const v1::IsaParty& p) {
  return p.has_agency_id() ? absl::StrCat("a:", p.agency_id()) : absl::StrCat("r:", p.area_id());
}

std::string IndexKey(absl::string_view sender, absl::string_view recipient, int purpose) {
  return absl::StrCat(sender, "|", recipient, "|", purpose);
}

using Candidates = std::vector<const AgreementCandidate*>;

// Names the agreement with the latest review date: the one to renew (or wait for).
std::string WhyNotInForce(const Candidates& kind_ok, absl::Time now, const std::string& flow) {
  const AgreementCandidate* c = *std::max_element(
      kind_ok.begin(), kind_ok.end(),
      [](const AgreementCandidate* a, const AgreementCandidate* b) { return a->until < b->until; });
  return c->until <= now
             ? absl::StrCat(IsaText(*c->isa), " covered ", flow, " but reached its review date on ",
                            DateText(c->until), " and is no longer in force.")
             : absl::StrCat(IsaText(*c->isa), " covers ", flow, " but is not in force until ",
                            DateText(c->from), ".");
}

// Prefers the agreement under which the share raises fewest problems, then
// the most specific, then the newest; ties go to the smaller id.
const AgreementCandidate* Best(const Candidates& in_force, const v1::SharingDeclaration& d,
                               uint64_t declared) {
  auto rank = [&](const AgreementCandidate* c) {
    int problems = !(c->bases & Bit(d.lawful_basis())) +
                   ((declared & ~kFullCaseRecord & ~c->categories) != 0) +
                   ((declared & kFullCaseRecord & ~c->categories) != 0) +
                   (d.protected_identities_size() > 0 && !c->protected_identities_allowed);
    return std::make_tuple(problems, -c->specificity, -absl::ToUnixNanos(c->from),
                           std::cref(c->isa->id()));
  };
  return *std::min_element(
      in_force.begin(), in_force.end(),
      [&](const AgreementCandidate* a, const AgreementCandidate* b) { return rank(a) < rank(b); });
}

}  // namespace

std::string IsaText(const v1::InformationSharingAgreement& isa) {
  return absl::StrCat("ISA ", isa.id(), " v", isa.version());
}

std::string DateText(absl::Time t) {
  const bool midnight = absl::ToCivilSecond(t, absl::UTCTimeZone()) ==
                        absl::CivilSecond(absl::ToCivilDay(t, absl::UTCTimeZone()));
  return absl::FormatTime(midnight ? "%Y-%m-%d" : "%Y-%m-%d %H:%M UTC", t, absl::UTCTimeZone());
}

AgreementIndex::AgreementIndex(std::vector<v1::InformationSharingAgreement> isas,
                               const v1::Federation& federation)
    : isas_(std::move(isas)) {
  for (const auto& a : federation.agencies()) area_of_agency_[a.id()] = a.area_id();
  // Candidates point into isas_, which is not resized after the constructor.
  for (const auto& isa : isas_) {
    for (const auto& rule : isa.rules()) {
      AgreementCandidate c{&isa,
                           0,
                           Mask(rule.kinds()),
                           Mask(rule.lawful_bases()),
                           Mask(rule.data_categories()),
                           rule.protected_identities_allowed(),
                           ToTime(isa.in_force_from()),
                           ToTime(isa.review_by())};
      for (const auto& s : rule.senders()) {
        for (const auto& r : rule.recipients()) {
          c.specificity = 2 * s.has_agency_id() + r.has_agency_id();
          for (int p : rule.purposes()) index_[IndexKey(PartyKey(s), PartyKey(r), p)].push_back(c);
        }
      }
    }
  }
}

const v1::InformationSharingAgreement* AgreementIndex::FindIsa(absl::string_view id) const {
  for (const auto& isa : isas_) {
    if (isa.id() == id) return &isa;
  }
  return nullptr;
}

AgreementMatch AgreementIndex::Find(const v1::Envelope& h, absl::Time now,
                                    uint64_t declared) const {
  AgreementMatch m;
  const auto& d = h.declaration();
  const std::string& sender = h.sender_agency_id();
  const std::string& recipient = h.recipient_agency_id();
  auto sender_area = area_of_agency_.find(sender);
  auto recipient_area = area_of_agency_.find(recipient);
  if (sender_area == area_of_agency_.end()) {
    m.why_none = absl::StrCat("Sender agency '", sender, "' is not in the federation directory.");
    return m;
  }
  if (recipient_area == area_of_agency_.end()) {
    m.why_none =
        absl::StrCat("Recipient agency '", recipient, "' is not in the federation directory.");
    return m;
  }
  if (d.purpose() == v1::PURPOSE_UNSPECIFIED) {
    m.why_none = "No purpose is declared, so no agreement can cover the share.";
    return m;
  }
  const std::string senders[] = {absl::StrCat("a:", sender),
                                 absl::StrCat("r:", sender_area->second)};
  const std::string recipients[] = {absl::StrCat("a:", recipient),
                                    absl::StrCat("r:", recipient_area->second)};
  const std::string flow = absl::StrCat(sender, " to ", recipient, " for ", EnumText(d.purpose()));
  Candidates covering;
  for (const auto& s : senders) {
    for (const auto& r : recipients) {
      auto it = index_.find(IndexKey(s, r, d.purpose()));
      if (it == index_.end()) continue;
      for (const AgreementCandidate& c : it->second) covering.push_back(&c);
    }
  }
  if (covering.empty()) {
    m.why_none = absl::StrCat("No information sharing agreement covers ", flow, ".");
    return m;
  }
  Candidates kind_ok, in_force;
  for (const AgreementCandidate* c : covering) {
    if (c->kinds & Bit(h.kind())) kind_ok.push_back(c);
  }
  if (kind_ok.empty()) {
    m.why_none = absl::StrCat(IsaText(*covering.front()->isa), " covers ", flow, " but not ",
                              EnumText(h.kind()), " messages.");
    return m;
  }
  for (const AgreementCandidate* c : kind_ok) {
    if (c->from <= now && now < c->until) in_force.push_back(c);
  }
  if (in_force.empty()) {
    m.why_none = WhyNotInForce(kind_ok, now, flow);
    return m;
  }
  m.chosen = Best(in_force, d, declared);
  return m;
}

}  // namespace safeshare::policy
