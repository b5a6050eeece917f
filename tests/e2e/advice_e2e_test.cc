// End-to-end over real mutual TLS on loopback, a real safeshare-gateway
// process driven by the real agent code. The Advice service: officers decide held messages within
// their scope.

#include "tests/e2e/gateway_fixture.h"

namespace safeshare {
namespace {

// Officers at work: the fixture's Officer() and Query() helpers.
using AuditE2eTest = GatewayE2eTest;

// One story, kept whole (longer than a function should be): three holds, an
// officer of each scope, their decisions and the record they leave.
TEST_F(AuditE2eTest, OfficersApproveOrRefuseHeldMessagesWithinTheirScope) {
  auto police = Agent("hiow-police");
  auto held = [&](const std::string& id) {
    auto m = Message("hiow-police", "portsmouth-mash", id);
    m.declaration.set_advice_status(v1::ADVICE_STATUS_REQUESTED);
    m.declaration.set_urgency(v1::URGENCY_URGENT);
    auto r = police->Send(m);
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->state(), v1::MESSAGE_STATE_HELD);
  };
  held("held-a");
  held("held-b");
  // And one from Southsea Academy, in Portsmouth's area.
  auto school = Agent("southsea-academy");
  auto from_school = Message("southsea-academy", "portsmouth-mash", "held-c");
  {
    std::ifstream in(testing::SourceDir() + "/deploy/examples/school-to-portsmouth-referral.json");
    std::string json((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, &from_school.declaration).ok());
  }
  from_school.practitioner.set_role(v1::PRACTITIONER_ROLE_DESIGNATED_SAFEGUARDING_LEAD);
  from_school.declaration.set_advice_status(v1::ADVICE_STATUS_REQUESTED);
  from_school.declaration.set_urgency(v1::URGENCY_URGENT);
  auto c = school->Send(from_school);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->state(), v1::MESSAGE_STATE_HELD);

  auto ids = [](const absl::StatusOr<v1::ListHeldResponse>& list) {
    std::vector<std::string> out;
    EXPECT_TRUE(list.ok()) << list.status();
    if (list.ok()) {
      for (const auto& m : list->messages()) out.push_back(m.message_id());
    }
    return out;
  };
  using Ids = std::vector<std::string>;
  // The police are in Hampshire: the Portsmouth lead (area scope) oversees
  // the school but not them.
  auto portsmouth = Officer("portsmouth-mash.ig-lead");
  EXPECT_EQ(ids(portsmouth->ListHeld()), Ids{"held-c"});
  EXPECT_EQ(portsmouth->Approve("held-a", "The s47 threshold is met, share now.").code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Agency("hiow-police")->ListHeld().status().code(), absl::StatusCode::kPermissionDenied);
  // The constabulary's DPO (agency scope) oversees the police alone.
  auto police_dpo = Officer("hiow-police.dpo");
  EXPECT_EQ(ids(police_dpo->ListHeld()), (Ids{"held-a", "held-b"}));
  EXPECT_EQ(police_dpo->Approve("held-c", "The school's concern is clearly urgent.").code(),
            absl::StatusCode::kPermissionDenied);

  auto dpo = Officer("hampshire-crt.dpo");
  EXPECT_EQ(ids(dpo->ListHeld()), (Ids{"held-a", "held-b", "held-c"}));
  auto list = dpo->ListHeld();
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->messages_size(), 3);
  EXPECT_EQ(list->messages(0).message_id(), "held-a");
  EXPECT_FALSE(list->messages(0).envelope_header().has_payload()) << "never content";
  EXPECT_EQ(list->messages(0).decision().decision(), v1::DECISION_HOLD_FOR_ADVICE);

  EXPECT_EQ(dpo->Approve("held-a", "short").code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(dpo->Approve("held-a", "Necessary and proportionate: the child is at risk.").ok());
  ASSERT_TRUE(dpo->RefuseHeld("held-b", "Not necessary: the front door already has this.").ok());
  EXPECT_EQ(dpo->Approve("held-b", "Changed my mind about this one.").code(),
            absl::StatusCode::kFailedPrecondition);

  auto inbox = Agent("portsmouth-mash")->Receive();
  ASSERT_TRUE(inbox.ok());
  ASSERT_EQ(inbox->received.size(), 1u);
  EXPECT_EQ(inbox->received[0].message_id, "held-a");
  auto b = police->client().GetStatus("held-b");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->state(), v1::MESSAGE_STATE_REFUSED);

  int approved = 0, refused = 0;
  for (const auto& r : Query(*dpo)) {
    if (r.event() == v1::AUDIT_EVENT_TYPE_APPROVED_BY_OFFICER) {
      ++approved;
      EXPECT_EQ(r.actor(), "safeshare://hips-dev/officer/hampshire-crt/dpo");
      EXPECT_NE(r.reason().find("proportionate"), std::string::npos);
    }
    refused += r.event() == v1::AUDIT_EVENT_TYPE_REFUSED_BY_OFFICER;
  }
  EXPECT_EQ(approved, 1);
  EXPECT_EQ(refused, 1);
  ExpectAuditLogVerifies();
}

}  // namespace
}  // namespace safeshare
