#include "policy/isa.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"

namespace safeshare::policy {
namespace {

using safeshare::v1::Federation;
using safeshare::v1::InformationSharingAgreement;
using safeshare::v1::IsaParty;
using safeshare::v1::IsaRule;

bool IsValidId(absl::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '-' || c == '.' || c == '_';
  });
}

absl::Status Invalid(absl::string_view field, absl::string_view reason) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", reason));
}

std::string PartyText(const IsaParty& p) {
  return p.has_agency_id() ? absl::StrCat("agency '", p.agency_id(), "'")
                           : absl::StrCat("area '", p.area_id(), "'");
}

// Every value listed, none unspecified or outside the enum. `valid` is the
// generated <Enum>_IsValid.
template <typename List>
absl::Status CheckEnumList(const List& values, absl::string_view field, bool (*valid)(int)) {
  if (values.empty()) return Invalid(field, "at least one value is required");
  for (int i = 0; i < values.size(); ++i) {
    if (values[i] == 0 || !valid(values[i])) {
      return Invalid(absl::StrCat(field, "[", i, "]"),
                     absl::StrCat("value ", values[i], " is unspecified or unknown"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckParty(const IsaParty& p, absl::string_view field, const Federation* federation) {
  if (p.party_case() == IsaParty::PARTY_NOT_SET) {
    return Invalid(field, "set exactly one of agency_id or area_id");
  }
  const std::string& id = p.has_agency_id() ? p.agency_id() : p.area_id();
  if (!IsValidId(id)) return Invalid(field, absl::StrCat("malformed id '", id, "'"));
  if (federation == nullptr) return absl::OkStatus();
  bool known = false;
  if (p.has_agency_id()) {
    for (const auto& a : federation->agencies()) known = known || a.id() == id;
  } else {
    for (const auto& a : federation->areas()) known = known || a.id() == id;
  }
  if (!known) return Invalid(field, absl::StrCat(PartyText(p), " is not in the federation"));
  return absl::OkStatus();
}

// A rule's sender or recipient must be a party, or an agency in a party area.
bool IsCovered(const IsaParty& p, const InformationSharingAgreement& isa,
               const Federation* federation) {
  for (const auto& party : isa.parties()) {
    if (party.party_case() == p.party_case() &&
        (p.has_agency_id() ? party.agency_id() == p.agency_id() : party.area_id() == p.area_id())) {
      return true;
    }
    if (federation != nullptr && p.has_agency_id() && party.has_area_id()) {
      for (const auto& a : federation->agencies()) {
        if (a.id() == p.agency_id() && a.area_id() == party.area_id()) return true;
      }
    }
  }
  return false;
}

absl::Status CheckRule(const IsaRule& rule, const std::string& field,
                       const InformationSharingAgreement& isa, const Federation* federation) {
  using Parties = google::protobuf::RepeatedPtrField<IsaParty>;
  const std::pair<const char*, const Parties*> sides[] = {{"senders", &rule.senders()},
                                                          {"recipients", &rule.recipients()}};
  for (const auto& [side, parties] : sides) {
    const Parties& list = *parties;
    const std::string list_field = absl::StrCat(field, ".", side);
    if (list.empty()) return Invalid(list_field, "at least one party is required");
    for (int i = 0; i < list.size(); ++i) {
      const std::string f = absl::StrCat(list_field, "[", i, "]");
      if (absl::Status st = CheckParty(list[i], f, federation); !st.ok()) return st;
      if (!IsCovered(list[i], isa, federation)) {
        return Invalid(f, absl::StrCat(PartyText(list[i]), " is not a party to the agreement"));
      }
    }
  }
  using Enums = google::protobuf::RepeatedField<int>;
  const std::tuple<const char*, const Enums*, bool (*)(int)> lists[] = {
      {"kinds", &rule.kinds(), safeshare::v1::MessageKind_IsValid},
      {"purposes", &rule.purposes(), safeshare::v1::Purpose_IsValid},
      {"lawful_bases", &rule.lawful_bases(), safeshare::v1::LawfulBasis_IsValid},
      {"data_categories", &rule.data_categories(), safeshare::v1::DataCategory_IsValid}};
  for (const auto& [name, values, valid] : lists) {
    absl::Status st = CheckEnumList(*values, absl::StrCat(field, ".", name), valid);
    if (!st.ok()) return st;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadWholeFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError("cannot be read");
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace

absl::Status ParseProtoJson(absl::string_view json, google::protobuf::Message* message) {
  auto st = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), message);
  if (st.ok()) return absl::OkStatus();
  // The parser reports "(field.path): reason"; reshape as "field.path: reason".
  std::string text(st.message());
  if (text.size() > 1 && text[0] == '(') {
    if (size_t close = text.find("): "); close != std::string::npos) {
      text = absl::StrCat(text.substr(1, close - 1), ": ", text.substr(close + 3));
    }
  }
  return absl::InvalidArgumentError(text);
}

absl::StatusOr<InformationSharingAgreement> ParseIsaJson(absl::string_view json) {
  InformationSharingAgreement isa;
  if (absl::Status st = ParseProtoJson(json, &isa); !st.ok()) return st;
  return isa;
}

absl::Status ValidateIsa(const InformationSharingAgreement& isa, const Federation* federation) {
  if (!IsValidId(isa.id())) return Invalid("id", "required, 1-64 characters of [a-z0-9._-]");
  if (absl::StripAsciiWhitespace(isa.title()).empty()) return Invalid("title", "required");
  if (absl::StripAsciiWhitespace(isa.version()).empty()) return Invalid("version", "required");
  if (isa.parties().empty()) return Invalid("parties", "at least one party is required");
  std::set<std::pair<int, std::string>> seen;
  for (int i = 0; i < isa.parties_size(); ++i) {
    const auto& p = isa.parties(i);
    const std::string field = absl::StrCat("parties[", i, "]");
    if (absl::Status st = CheckParty(p, field, federation); !st.ok()) return st;
    if (!seen.emplace(p.party_case(), p.has_agency_id() ? p.agency_id() : p.area_id()).second) {
      return Invalid(field, absl::StrCat(PartyText(p), " is listed twice"));
    }
  }
  if (!isa.has_in_force_from()) return Invalid("in_force_from", "required");
  if (!isa.has_review_by()) return Invalid("review_by", "required");
  // The JSON parser applies a time-zone offset without checking the result,
  // so "9999-12-31T23:59:59-01:00" arrives as a time no tool can print.
  for (const auto& [field, t] : {std::pair{"in_force_from", &isa.in_force_from()},
                                 std::pair{"review_by", &isa.review_by()}}) {
    if (t->seconds() < google::protobuf::util::TimeUtil::kTimestampMinSeconds ||
        t->seconds() > google::protobuf::util::TimeUtil::kTimestampMaxSeconds) {
      return Invalid(field, "must be between the years 0001 and 9999");
    }
  }
  if (isa.in_force_from() >= isa.review_by()) {
    return Invalid("in_force_from",
                   absl::StrCat("must be before review_by (",
                                google::protobuf::util::TimeUtil::ToString(isa.review_by()), ")"));
  }
  if (isa.rules().empty()) return Invalid("rules", "at least one rule is required");
  for (int i = 0; i < isa.rules_size(); ++i) {
    absl::Status st = CheckRule(isa.rules(i), absl::StrCat("rules[", i, "]"), isa, federation);
    if (!st.ok()) return st;
  }
  if (isa.content_retention_days() == 0) {
    return Invalid("content_retention_days", "required, at least 1");
  }
  return absl::OkStatus();
}

absl::StatusOr<IsaSet> LoadIsaDirectory(const std::string& dir, const Federation* federation) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<fs::path> files;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() == ".json") files.push_back(it->path());
  }
  if (ec) {
    return absl::NotFoundError(absl::StrCat("cannot list ISA directory ", dir, ": ", ec.message()));
  }
  if (files.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(dir, ": no agreements (*.json) found"));
  }
  std::sort(files.begin(), files.end());

  IsaSet set;
  std::vector<std::string> errors;
  std::map<std::string, std::string> file_of_id;
  for (const auto& path : files) {
    // Report every bad file at once: an IG officer fixing a set wants the list.
    auto text = ReadWholeFile(path);
    if (!text.ok()) {
      errors.push_back(absl::StrCat(path.string(), ": ", text.status().message()));
      continue;
    }
    absl::StatusOr<InformationSharingAgreement> isa = ParseIsaJson(*text);
    absl::Status st = isa.status();
    if (st.ok()) st = ValidateIsa(*isa, federation);
    if (st.ok()) {
      auto [it, fresh] = file_of_id.emplace(isa->id(), path.string());
      if (!fresh) {
        st = Invalid("id", absl::StrCat("duplicate agreement id '", isa->id(), "' (also in ",
                                        it->second, ")"));
      }
    }
    if (!st.ok()) {
      errors.push_back(absl::StrCat(path.string(), ": ", st.message()));
      continue;
    }
    set.agreements.push_back(*std::move(isa));
  }
  if (!errors.empty()) return absl::InvalidArgumentError(absl::StrJoin(errors, "\n"));
  return set;
}

}  // namespace safeshare::policy
