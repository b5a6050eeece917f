// Structure-aware: the fuzzer's bytes choose a declaration field by field
// (every enum value the build knows, agency ids from the development
// federation, dates across the agreements' terms), decided against the
// shipped agreements under both rule packs. The engine never crashes, names
// every check once in order, and its decision obeys the rule: any FAIL is a
// DENY, else any ADVICE is a HOLD_FOR_ADVICE, else ALLOW.
#include <fuzzer/FuzzedDataProvider.h>

#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/reflection.h"
#include "policy/isa.h"
#include "policy/policy_engine.h"
#include "tests/fuzz/fuzz_support.h"

namespace sf = safeshare::fuzz;
namespace sp = safeshare::policy;
namespace v1 = safeshare::v1;
using google::protobuf::FieldDescriptor;

namespace {

const sp::PolicyEngine& Engine() {
  static const sp::PolicyEngine* engine = [] {
    auto isas = sp::LoadIsaDirectory(sf::SourcePath("deploy/isa"), &sf::DevFederation());
    FUZZ_REQUIRE(isas.ok(), "the shipped agreements load");
    auto created = sp::PolicyEngine::Create(*std::move(isas), sf::DevFederation());
    FUZZ_REQUIRE(created.ok(), "the policy engine builds");
    return created->release();
  }();
  return *engine;
}

std::string AgencyId(FuzzedDataProvider& in) {
  const auto& agencies = sf::DevFederation().agencies();
  const size_t pick = in.ConsumeIntegralInRange<size_t>(0, agencies.size());
  return pick < static_cast<size_t>(agencies.size()) ? agencies[pick].id()
                                                     : in.ConsumeRandomLengthString(16);
}

int EnumValue(FuzzedDataProvider& in, const google::protobuf::EnumDescriptor* e) {
  return e->value(in.ConsumeIntegralInRange<int>(0, e->value_count() - 1))->number();
}

std::string Text(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange(0, 3)) {
    case 0:
      return "";
    case 1:
      return "Disclosure by the child at school; risk of significant harm today.";
    case 2:
      return std::string(64, 'a');  // a subject reference's length
    default:
      return in.ConsumeRandomLengthString(64);
  }
}

// Every field of `message` (nested ones too) from the fuzzer's bytes.
void Fill(FuzzedDataProvider& in, google::protobuf::Message* message, int depth) {
  const auto* descriptor = message->GetDescriptor();
  const auto* reflection = message->GetReflection();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* field = descriptor->field(i);
    if (!in.ConsumeBool()) continue;
    const int count = field->is_repeated() ? in.ConsumeIntegralInRange(0, 4) : 1;
    for (int n = 0; n < count; ++n) {
      switch (field->cpp_type()) {
        case FieldDescriptor::CPPTYPE_ENUM:
          if (field->is_repeated()) {
            reflection->AddEnumValue(message, field, EnumValue(in, field->enum_type()));
          } else {
            reflection->SetEnumValue(message, field, EnumValue(in, field->enum_type()));
          }
          break;
        case FieldDescriptor::CPPTYPE_BOOL:
          reflection->SetBool(message, field, in.ConsumeBool());
          break;
        case FieldDescriptor::CPPTYPE_STRING:
          if (field->is_repeated()) {
            reflection->AddString(message, field, Text(in));
          } else {
            reflection->SetString(message, field, Text(in));
          }
          break;
        case FieldDescriptor::CPPTYPE_MESSAGE:
          if (depth < 3) {
            Fill(in,
                 field->is_repeated() ? reflection->AddMessage(message, field)
                                      : reflection->MutableMessage(message, field),
                 depth + 1);
          }
          break;
        default:
          break;  // no numeric fields in a declaration
      }
    }
  }
}

void CheckDecision(const v1::PolicyDecision& d) {
  constexpr size_t kCount = sizeof(sp::kChecks) / sizeof(sp::kChecks[0]);
  FUZZ_REQUIRE(static_cast<size_t>(d.findings_size()) == kCount, "one finding per check");
  bool fail = false, advice = false;
  for (size_t i = 0; i < kCount; ++i) {
    const auto& f = d.findings(static_cast<int>(i));
    FUZZ_REQUIRE(f.check() == sp::kChecks[i], "findings name the checks in order");
    FUZZ_REQUIRE(!f.rule().empty() && !f.reason().empty(), "every finding has a rule and reason");
    FUZZ_REQUIRE(f.outcome() != v1::FINDING_OUTCOME_UNSPECIFIED, "every finding has an outcome");
    fail |= f.outcome() == v1::FINDING_OUTCOME_FAIL;
    advice |= f.outcome() == v1::FINDING_OUTCOME_ADVICE;
  }
  const v1::Decision expected = fail     ? v1::DECISION_DENY
                                : advice ? v1::DECISION_HOLD_FOR_ADVICE
                                         : v1::DECISION_ALLOW;
  FUZZ_REQUIRE(d.decision() == expected, "any FAIL denies, else any ADVICE holds, else allow");
  FUZZ_REQUIRE(!d.rule_pack().empty() && !d.rule_pack_version().empty(), "the pack is named");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  v1::Envelope header;
  header.set_message_id("fuzz-1");
  header.set_kind(static_cast<v1::MessageKind>(EnumValue(in, v1::MessageKind_descriptor())));
  header.set_sender_agency_id(AgencyId(in));
  header.set_recipient_agency_id(AgencyId(in));
  header.mutable_sender_practitioner()->set_id(Text(in));
  header.mutable_sender_practitioner()->set_role(
      static_cast<v1::PractitionerRole>(EnumValue(in, v1::PractitionerRole_descriptor())));
  Fill(in, header.mutable_declaration(), 0);
  // 2023-01-01 to 2031-01-01, across the agreements' terms and review dates.
  const absl::Time now =
      absl::FromUnixSeconds(1672531200) + absl::Hours(in.ConsumeIntegralInRange(0, 8 * 366 * 24));
  v1::SharingDeclaration request;
  const bool answers_request = in.ConsumeBool();
  if (answers_request) Fill(in, &request, 0);

  for (sp::RulePack pack : {sp::RulePack::k2018, sp::RulePack::k2024, sp::RulePack::k2026}) {
    const v1::PolicyDecision d =
        Engine().Decide(header, now, pack, answers_request ? &request : nullptr);
    CheckDecision(d);
    FUZZ_REQUIRE(d.rule_pack() == sp::RulePackName(pack), "the decision names its pack");
    // Deciding is a function of its input.
    FUZZ_REQUIRE(sf::SameMessage(
                     d, Engine().Decide(header, now, pack, answers_request ? &request : nullptr)),
                 "the same input gives the same decision");
  }
  return 0;
}
