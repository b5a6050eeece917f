// Routing between partnerships (docs/federation.md): two gateways on this
// machine, each with its own federation, CA, audit key, agreements and
// store. A Portsmouth school's referral to the Dorset front door is decided
// and audited by each side under its own agreement, forwarded over mutual
// TLS as the hips gateway, opened by Dorset's real agent, and the
// acknowledgement and the outcome come back. Real gateway processes.

#include <filesystem>
#include <fstream>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/time.h"
#include "google/protobuf/text_format.h"
#include "safeshare/v1/directory.grpc.pb.h"
#include "safeshare/v1/peering.grpc.pb.h"
#include "tests/e2e/gateway_fixture.h"
#include "verification/audit_verifier.h"

namespace safeshare {
namespace {

namespace fs = std::filesystem;

std::string Read(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}
void Write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

constexpr char kDorsetTemplate[] = R"pb(
  id: "dorset-dev"
  display_name: "Dorset safeguarding partnership (development)"
  areas { id: "dorset" display_name: "Dorset" }
  agencies {
    id: "dorset-front-door"
    display_name: "Dorset children's services front door"
    area_id: "dorset"
    roles: AGENCY_ROLE_FRONT_DOOR
    roles: AGENCY_ROLE_LOCAL_AUTHORITY
  }
  agencies {
    id: "dorset-police"
    display_name: "Dorset Police"
    area_id: "dorset"
    roles: AGENCY_ROLE_POLICE
  }
)pb";

// The cross-border agreement as one side signed it: `referral_purposes` is
// what that side lets a school refer for.
std::string CrossBorderAgreement(const std::string& referral_purposes) {
  return absl::StrCat(R"json({
  "id": "portsmouth-dorset-cross-border",
  "title": "Portsmouth schools and the Dorset front door (cross-border)",
  "version": "1.0",
  "parties": [{"agency_id": "southsea-academy"}, {"agency_id": "dorset-front-door"}],
  "in_force_from": "2024-04-01T00:00:00Z",
  "review_by": "2029-04-01T00:00:00Z",
  "rules": [
    {
      "senders": [{"agency_id": "southsea-academy"}],
      "recipients": [{"agency_id": "dorset-front-door"}],
      "kinds": ["MESSAGE_KIND_REFERRAL"],
      "purposes": [)json",
                      referral_purposes, R"json(],
      "lawful_bases": ["LAWFUL_BASIS_PUBLIC_TASK", "LAWFUL_BASIS_LEGAL_OBLIGATION",
                       "LAWFUL_BASIS_VITAL_INTERESTS", "LAWFUL_BASIS_CONSENT"],
      "data_categories": ["DATA_CATEGORY_IDENTITY", "DATA_CATEGORY_CONTACT_DETAILS",
                          "DATA_CATEGORY_CONCERN_DETAILS", "DATA_CATEGORY_CHILDS_VOICE",
                          "DATA_CATEGORY_EDUCATION", "DATA_CATEGORY_HEALTH"],
      "protected_identities_allowed": true
    },
    {
      "senders": [{"agency_id": "dorset-front-door"}],
      "recipients": [{"agency_id": "southsea-academy"}],
      "kinds": ["MESSAGE_KIND_OUTCOME"],
      "purposes": ["PURPOSE_OUTCOME_FEEDBACK"],
      "lawful_bases": ["LAWFUL_BASIS_PUBLIC_TASK", "LAWFUL_BASIS_LEGAL_OBLIGATION"],
      "data_categories": ["DATA_CATEGORY_IDENTITY"],
      "protected_identities_allowed": false
    }
  ],
  "content_retention_days": 365
})json");
}

struct Side {
  std::string id;   // federation id
  std::string dir;  // pki init output
  int port = 0;
  std::string isa_dir;
  std::unique_ptr<testing::GatewayProcess> gateway;
  v1::Federation federation() const {
    v1::Federation f;
    EXPECT_TRUE(
        google::protobuf::TextFormat::ParseFromString(Read(dir + "/federation.textproto"), &f));
    return f;
  }
  v1::AuditLogIdentity log() const { return federation().audit_log(); }
};

class PeeringE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    hips_.id = "hips-dev";
    hips_.dir = tmp_.path() + "/hips-dev";
    dorset_.id = "dorset-dev";
    dorset_.dir = tmp_.path() + "/dorset-dev";
    Write(tmp_.path() + "/dorset.textproto", kDorsetTemplate);
    for (auto [side, tmpl] :
         {std::pair<Side*, std::string>{&hips_,
                                        testing::SourceDir() + "/deploy/dev-federation.textproto"},
          {&dorset_, tmp_.path() + "/dorset.textproto"}}) {
      auto r = testing::RunCommand(
          {testing::CliBinary(), "pki", "init", "--dir", side->dir, "--federation_template", tmpl});
      ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
      side->port = testing::FreePort();
    }
    // Each federation file lists the other partnership as a peer: its
    // gateway, its CA, its audit-log key and the agencies it serves.
    Peer(hips_, dorset_, {"dorset-front-door", "dorset-police"});
    Peer(dorset_, hips_, {"southsea-academy"});
    // Each side's own agreements; the school may refer for early help under
    // the hips side's copy only.
    hips_.isa_dir = testing::TestAgreements(tmp_.path() + "/hips-isa");
    Write(hips_.isa_dir + "/portsmouth-dorset-cross-border.json",
          CrossBorderAgreement(R"("PURPOSE_SAFEGUARDING_REFERRAL", "PURPOSE_EARLY_HELP")"));
    dorset_.isa_dir = tmp_.path() + "/dorset-isa";
    fs::create_directories(dorset_.isa_dir);
    Write(dorset_.isa_dir + "/portsmouth-dorset-cross-border.json",
          CrossBorderAgreement(R"("PURPOSE_SAFEGUARDING_REFERRAL")"));
    // Each agent pins the other partnership's audit-log key itself.
    Pin(hips_.dir + "/agencies/southsea-academy", dorset_);
    Pin(dorset_.dir + "/agencies/dorset-front-door", hips_);
  }

  void Peer(const Side& to, const Side& peer, std::vector<std::string> agency_ids) {
    v1::Federation f = to.federation();
    const v1::Federation other = peer.federation();
    auto* p = f.add_peers();
    p->set_id(peer.id);
    p->set_display_name(other.display_name());
    p->set_gateway_address(absl::StrCat("localhost:", peer.port));
    p->set_ca_file(peer.dir + "/gateway/ca.pem");
    *p->mutable_audit_log() = other.audit_log();
    std::set<std::string> areas;
    for (const auto& a : other.agencies()) {
      if (std::find(agency_ids.begin(), agency_ids.end(), a.id()) == agency_ids.end()) continue;
      auto* listed = p->add_agencies();
      *listed = a;
      listed->clear_keys();
      listed->clear_escalation_contact_agency_ids();
      areas.insert(a.area_id());
    }
    for (const auto& area : other.areas()) {
      if (areas.count(area.id())) *p->add_areas() = area;
    }
    std::string text;
    ASSERT_TRUE(google::protobuf::TextFormat::PrintToString(f, &text));
    Write(to.dir + "/federation.textproto", text);
  }

  static void Pin(const std::string& identity_dir, const Side& peer) {
    fs::create_directories(identity_dir + "/peers/" + peer.id);
    fs::copy_file(peer.dir + "/gateway/audit-log.vkey",
                  identity_dir + "/peers/" + peer.id + "/audit-log.pub",
                  fs::copy_options::overwrite_existing);
  }

  bool Start(Side& side, const std::vector<std::string>& extra_flags = {}) {
    if (side.gateway == nullptr) {
      std::vector<std::string> flags{absl::StrCat("--listen=127.0.0.1:", side.port),
                                     "--isa_dir=" + side.isa_dir, "--forward_interval_ms=100"};
      flags.insert(flags.end(), extra_flags.begin(), extra_flags.end());
      side.gateway = std::make_unique<testing::GatewayProcess>(
          side.dir, tmp_.path() + "/gw-" + side.id, std::move(flags));
    }
    if (!side.gateway->Start()) {
      ADD_FAILURE() << side.id << " did not start:\n" << Read(side.gateway->log_path());
      return false;
    }
    return true;
  }

  std::unique_ptr<agents::AgencyAgent> School() {
    auto a = agents::AgencyAgent::Open(hips_.dir + "/agencies/southsea-academy",
                                       hips_.gateway->target());
    EXPECT_TRUE(a.ok()) << a.status();
    return a.ok() ? *std::move(a) : nullptr;
  }
  std::unique_ptr<agents::AgencyAgent> FrontDoor() {
    auto a = agents::AgencyAgent::Open(dorset_.dir + "/agencies/dorset-front-door",
                                       dorset_.gateway->target());
    EXPECT_TRUE(a.ok()) << a.status();
    return a.ok() ? *std::move(a) : nullptr;
  }

  static agents::OutgoingMessage Referral(const std::string& id) {
    return ExampleMessage(v1::MESSAGE_KIND_REFERRAL, "southsea-academy", "dorset-front-door",
                          "school-to-portsmouth-referral", id,
                          v1::PRACTITIONER_ROLE_DESIGNATED_SAFEGUARDING_LEAD);
  }

  // Polls the sender's view of `id` until `done` holds for its receipt (or
  // 30 s pass).
  v1::SubmitResponse WaitForReceipt(agents::AgencyAgent& agent, const std::string& id,
                                    const std::function<bool(const v1::SubmitResponse&)>& done) {
    v1::SubmitResponse last;
    for (int i = 0; i < 300; ++i) {
      auto r = agent.client().GetReceipt(id);
      if (r.ok()) {
        last = *r;
        if (done(last)) break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return last;
  }

  // Everything in the front door's mailbox within 30 s, until `count` have
  // come; acknowledged as they are opened.
  std::vector<std::string> ReceiveAtFrontDoor(agents::AgencyAgent& agent, size_t count) {
    std::vector<std::string> ids;
    for (int i = 0; i < 300 && ids.size() < count; ++i) {
      auto inbox = agent.Receive();
      if (inbox.ok()) {
        EXPECT_TRUE(inbox->refused.empty()) << inbox->refused.front().detail;
        for (const auto& m : inbox->received) {
          ids.push_back(m.message_id);
          EXPECT_TRUE(agent.client().Ack(m.message_id).ok());
        }
      }
      if (ids.size() < count) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return ids;
  }

  TempDir tmp_;
  Side hips_;
  Side dorset_;
};

TEST_F(PeeringE2eTest, ASchoolReferralCrossesTwoGatewaysAndTheAcknowledgementAndOutcomeComeBack) {
  ASSERT_TRUE(Start(hips_) && Start(dorset_));
  auto school = School();
  auto front_door = FrontDoor();
  ASSERT_TRUE(school && front_door);

  // Decided and audited on the sending side, under its copy of the agreement.
  auto sent = school->Send(Referral("cross-border-1"));
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_EQ(sent->state(), v1::MESSAGE_STATE_FORWARDING);
  EXPECT_EQ(sent->decision().decision(), v1::DECISION_ALLOW);
  EXPECT_EQ(sent->decision().isa_id(), "portsmouth-dorset-cross-border");
  EXPECT_TRUE(verification::VerifyReceipt(*sent, hips_.log()).ok());

  // Opened by Dorset's own agent: the school's signing key proven by the
  // hips log, under the key the front door pinned.
  auto got = ReceiveAtFrontDoor(*front_door, 1);
  ASSERT_EQ(got, std::vector<std::string>{"cross-border-1"});

  // The sender's receipt carries both gateways' decisions, each provable
  // against its own log, and the acknowledgement comes back.
  auto receipt = WaitForReceipt(*school, "cross-border-1", [](const v1::SubmitResponse& r) {
    return r.state() == v1::MESSAGE_STATE_ACKNOWLEDGED;
  });
  EXPECT_EQ(receipt.state(), v1::MESSAGE_STATE_ACKNOWLEDGED);
  ASSERT_TRUE(receipt.has_peer_receipt());
  EXPECT_EQ(receipt.peer_federation_id(), "dorset-dev");
  EXPECT_EQ(receipt.peer_receipt().decision().decision(), v1::DECISION_ALLOW);
  EXPECT_TRUE(verification::VerifyReceipt(receipt, hips_.log()).ok());
  EXPECT_TRUE(verification::VerifyReceipt(receipt.peer_receipt(), dorset_.log()).ok());
  // ... and not the other way round: each log vouches for its own side only.
  EXPECT_FALSE(verification::VerifyReceipt(receipt.peer_receipt(), hips_.log()).ok());
  v1::AuditRecord dorset_record;
  ASSERT_TRUE(dorset_record.ParseFromString(receipt.peer_receipt().audit_record()));
  EXPECT_EQ(dorset_record.actor(), "safeshare://hips-dev/gateway");
  EXPECT_EQ(dorset_record.sender_agency_id(), "southsea-academy");
  // The receipt is the sender's alone.
  auto police =
      agents::AgencyAgent::Open(hips_.dir + "/agencies/hiow-police", hips_.gateway->target());
  ASSERT_TRUE(police.ok());
  EXPECT_EQ((*police)->client().GetReceipt("cross-border-1").status().code(),
            absl::StatusCode::kNotFound);

  // The outcome travels back the same way and closes the referral.
  agents::OutgoingMessage outcome = Referral("cross-border-1-outcome");
  outcome.kind = v1::MESSAGE_KIND_OUTCOME;
  outcome.sender_agency_id = "dorset-front-door";
  outcome.recipient_agency_id = "southsea-academy";
  outcome.in_reply_to = "cross-border-1";
  outcome.practitioner.set_role(v1::PRACTITIONER_ROLE_SOCIAL_WORKER);
  outcome.content.Clear();
  outcome.content.mutable_outcome();
  auto& d = outcome.declaration;
  d.set_purpose(v1::PURPOSE_OUTCOME_FEEDBACK);
  d.clear_data_categories();
  d.add_data_categories(v1::DATA_CATEGORY_IDENTITY);
  d.clear_protected_identities();
  d.clear_special_category_condition();
  d.set_outcome_decision(v1::OUTCOME_DECISION_STRATEGY_DISCUSSION);
  auto answered = front_door->Send(outcome);
  ASSERT_TRUE(answered.ok()) << answered.status();
  EXPECT_EQ(answered->state(), v1::MESSAGE_STATE_FORWARDING);

  std::vector<std::string> outcomes;
  for (int i = 0; i < 300 && outcomes.empty(); ++i) {
    auto inbox = school->Receive();
    ASSERT_TRUE(inbox.ok()) << inbox.status();
    EXPECT_TRUE(inbox->refused.empty());
    for (const auto& m : inbox->received) {
      outcomes.push_back(m.message_id);
      EXPECT_EQ(m.header.kind(), v1::MESSAGE_KIND_OUTCOME);
      EXPECT_EQ(m.header.sender_agency_id(), "dorset-front-door");
      EXPECT_TRUE(school->client().Ack(m.message_id).ok());
    }
    if (outcomes.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(outcomes, std::vector<std::string>{"cross-border-1-outcome"});
  auto referral = school->client().GetStatus("cross-border-1");
  ASSERT_TRUE(referral.ok());
  EXPECT_EQ(referral->state(), v1::MESSAGE_STATE_OUTCOME_RECEIVED);
  auto back = WaitForReceipt(
      *front_door, "cross-border-1-outcome",
      [](const v1::SubmitResponse& r) { return r.state() == v1::MESSAGE_STATE_ACKNOWLEDGED; });
  EXPECT_EQ(back.state(), v1::MESSAGE_STATE_ACKNOWLEDGED);
}

TEST_F(PeeringE2eTest, AShareTheReceivingSideForbidsIsRefusedWithThatSidesFindings) {
  ASSERT_TRUE(Start(hips_) && Start(dorset_));
  auto school = School();
  ASSERT_TRUE(school);
  agents::OutgoingMessage early_help = Referral("cross-border-early-help");
  early_help.declaration.set_purpose(v1::PURPOSE_EARLY_HELP);
  auto sent = school->Send(early_help);
  ASSERT_TRUE(sent.ok()) << sent.status();  // the hips side's copy allows it
  EXPECT_EQ(sent->decision().decision(), v1::DECISION_ALLOW);

  auto receipt = WaitForReceipt(
      *school, "cross-border-early-help",
      [](const v1::SubmitResponse& r) { return r.state() == v1::MESSAGE_STATE_CONTENT_REFUSED; });
  ASSERT_EQ(receipt.state(), v1::MESSAGE_STATE_CONTENT_REFUSED);
  ASSERT_TRUE(receipt.has_peer_receipt());
  const auto& theirs = receipt.peer_receipt();
  EXPECT_EQ(theirs.state(), v1::MESSAGE_STATE_REFUSED);
  EXPECT_EQ(theirs.decision().decision(), v1::DECISION_DENY);
  bool purpose_failed = false;
  for (const auto& f : theirs.decision().findings()) {
    purpose_failed |= f.outcome() == v1::FINDING_OUTCOME_FAIL;
  }
  EXPECT_TRUE(purpose_failed);
  EXPECT_TRUE(verification::VerifyReceipt(theirs, dorset_.log()).ok());
  auto status = school->client().GetStatus("cross-border-early-help");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->content_refusal_reason(), v1::CONTENT_REFUSAL_REASON_REFUSED_BY_PEER_GATEWAY);
  EXPECT_NE(status->content_refusal_detail().find("dorset-dev refused it"), std::string::npos)
      << status->content_refusal_detail();

  // A share the sending side forbids never leaves it: refused at once.
  agents::OutgoingMessage to_police = Referral("cross-border-to-police");
  to_police.recipient_agency_id = "dorset-police";
  v1::SubmitResponse refused;
  auto denied = school->Send(to_police, &refused);
  EXPECT_EQ(denied.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(refused.state(), v1::MESSAGE_STATE_REFUSED);
}

TEST_F(PeeringE2eTest, MessagesForwardedWhileThePeerIsDownArriveExactlyOnceAfterItReturns) {
  ASSERT_TRUE(Start(hips_) && Start(dorset_));
  auto school = School();
  auto front_door = FrontDoor();
  ASSERT_TRUE(school && front_door);
  constexpr int kBefore = 5, kDuring = 15;
  std::set<std::string> sent;
  for (int i = 0; i < kBefore; ++i) {
    const std::string id = absl::StrCat("peer-down-", i);
    ASSERT_TRUE(school->Send(Referral(id)).ok());
    sent.insert(id);
  }
  // Killed mid-stream: some of these may be forwarded, some not.
  dorset_.gateway->Kill();
  for (int i = kBefore; i < kBefore + kDuring; ++i) {
    const std::string id = absl::StrCat("peer-down-", i);
    auto receipt = school->Send(Referral(id));
    ASSERT_TRUE(receipt.ok()) << receipt.status();
    EXPECT_EQ(receipt->state(), v1::MESSAGE_STATE_FORWARDING);
    sent.insert(id);
  }
  auto waiting = school->client().GetStatus("peer-down-19");
  ASSERT_TRUE(waiting.ok());
  EXPECT_EQ(waiting->state(), v1::MESSAGE_STATE_FORWARDING);

  ASSERT_TRUE(Start(dorset_));
  front_door = FrontDoor();
  ASSERT_TRUE(front_door);
  auto got = ReceiveAtFrontDoor(*front_door, sent.size());
  std::multiset<std::string> received(got.begin(), got.end());
  EXPECT_EQ(received.size(), sent.size());
  for (const auto& id : sent) EXPECT_EQ(received.count(id), 1u) << id;
  // Nothing more comes: no message twice.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto again = front_door->Receive();
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->received.empty());
  for (const auto& id : sent) {
    auto r = WaitForReceipt(*school, id, [](const v1::SubmitResponse& r) {
      return r.state() == v1::MESSAGE_STATE_ACKNOWLEDGED;
    });
    EXPECT_EQ(r.state(), v1::MESSAGE_STATE_ACKNOWLEDGED) << id;
  }
}

// The created-time age bound is for senders: a partnership that accepted an
// envelope within it may forward it after an outage longer than the bound,
// and the receiving side, which holds agencies to the same bound, takes it.
TEST_F(PeeringE2eTest, AForwardOutlastingTheAgeBoundIsStillDelivered) {
  const std::string config = tmp_.path() + "/two-second-window.textproto";
  Write(config, "limits { max_created_age_seconds: 2 }\n");
  ASSERT_TRUE(Start(hips_, {"--config=" + config}) && Start(dorset_, {"--config=" + config}));
  auto school = School();
  ASSERT_TRUE(school);
  // Sealed while the peer answers for its agency's keys.
  auto sealed = school->Seal(Referral("outlasts-window"));
  auto stale = school->Seal(Referral("sealed-before-the-wait"));
  ASSERT_TRUE(sealed.ok() && stale.ok()) << sealed.status() << stale.status();
  dorset_.gateway->Kill();
  auto receipt = school->client().Submit(*sealed);
  ASSERT_TRUE(receipt.ok()) << receipt.status();
  EXPECT_EQ(receipt->state(), v1::MESSAGE_STATE_FORWARDING);
  std::this_thread::sleep_for(std::chrono::seconds(4));  // twice the bound

  // An agency's envelope that old is refused...
  auto refused = school->client().Submit(*stale);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument) << refused.status();
  EXPECT_EQ(Reason(refused.status()), "CREATED_TIME_TOO_OLD");
  // ...but the peer's forwarding of one as old is taken, and delivered once.
  ASSERT_TRUE(Start(dorset_, {"--config=" + config}));
  auto front_door = FrontDoor();
  ASSERT_TRUE(front_door);
  EXPECT_EQ(ReceiveAtFrontDoor(*front_door, 1), std::vector<std::string>{"outlasts-window"});
  auto r = WaitForReceipt(*school, "outlasts-window", [](const v1::SubmitResponse& r) {
    return r.state() == v1::MESSAGE_STATE_ACKNOWLEDGED;
  });
  EXPECT_EQ(r.state(), v1::MESSAGE_STATE_ACKNOWLEDGED);

  // The recipient's agent does the same (R18): accepted here 25 hours after it
  // was dated, a peer partnership's envelope still opens; a local agency's
  // does not.
  auto accepted_a_day_later = [&](const v1::SignedEnvelope& s) {
    v1::Envelope e;
    EXPECT_TRUE(e.ParseFromString(s.envelope_bytes()));
    v1::MailboxMessage m;
    m.set_message_id(e.message_id());
    *m.mutable_signed_envelope() = s;
    *m.mutable_accepted_time() = ToTimestamp(FromTimestamp(e.created_time()) + absl::Hours(25));
    v1::ContentRefusalReason reason = v1::CONTENT_REFUSAL_REASON_UNSPECIFIED;
    return front_door->OpenDelivered(m, &reason).status();
  };
  EXPECT_TRUE(accepted_a_day_later(*sealed).ok()) << accepted_a_day_later(*sealed);
  auto police =
      agents::AgencyAgent::Open(dorset_.dir + "/agencies/dorset-police", dorset_.gateway->target());
  ASSERT_TRUE(police.ok()) << police.status();
  auto local = (*police)->Seal(ExampleMessage(
      v1::MESSAGE_KIND_REFERRAL, "dorset-police", "dorset-front-door",
      "police-to-portsmouth-referral", "local-a-day-late", v1::PRACTITIONER_ROLE_POLICE_OFFICER));
  ASSERT_TRUE(local.ok()) << local.status();
  EXPECT_EQ(accepted_a_day_later(*local).code(), absl::StatusCode::kInvalidArgument);
}

// F2-F4 (docs/envelope-format.md, 6.3): what a peer gateway forwards is
// checked before it is decided on, each failure with its code. Called here as
// the hips gateway itself, with its own certificate.
TEST_F(PeeringE2eTest, AForwardFailingItsOwnChecksIsRefusedWithItsCode) {
  ASSERT_TRUE(Start(hips_) && Start(dorset_));
  auto channel = [](const Side& to, const std::string& identity_dir) {
    grpc::SslCredentialsOptions tls;
    tls.pem_root_certs = Read(to.dir + "/gateway/ca.pem");
    tls.pem_cert_chain = Read(identity_dir + "/cert.pem");
    tls.pem_private_key = Read(identity_dir + "/key.pem");
    return grpc::CreateChannel(to.gateway->target(), grpc::SslCredentials(tls));
  };
  auto to_dorset = v1::PeerGateway::NewStub(channel(dorset_, hips_.dir + "/gateway"));
  auto to_hips = v1::PeerGateway::NewStub(channel(hips_, dorset_.dir + "/gateway"));
  // What the hips gateway's forwarder sends: the envelope and the sender's
  // key history from the hips log.
  auto school = School();
  ASSERT_TRUE(school);
  auto sealed = school->Seal(Referral("forward-checks-1"));
  ASSERT_TRUE(sealed.ok()) << sealed.status();
  v1::ForwardRequest good;
  *good.mutable_signed_envelope() = *sealed;
  {
    grpc::ClientContext ctx;
    v1::GetAgencyRequest request;
    request.set_agency_id("southsea-academy");
    const grpc::Status st = to_hips->GetAgency(&ctx, request, good.mutable_sender());
    ASSERT_TRUE(st.ok()) << st.error_message();
  }
  auto forward = [&](const v1::ForwardRequest& request) {
    grpc::ClientContext ctx;
    v1::SubmitResponse response;
    return to_dorset->Forward(&ctx, request, &response);
  };

  v1::ForwardRequest unreadable = good;  // F2
  unreadable.mutable_signed_envelope()->set_envelope_bytes(std::string("\xff\xff\xff", 3));
  EXPECT_EQ(forward(unreadable).error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  v1::ForwardRequest not_served = good;  // F3: hips serves only the school to Dorset
  v1::Envelope e;
  ASSERT_TRUE(e.ParseFromString(sealed->envelope_bytes()));
  e.set_sender_agency_id("hiow-police");
  not_served.mutable_signed_envelope()->set_envelope_bytes(e.SerializeAsString());
  EXPECT_EQ(forward(not_served).error_code(), grpc::StatusCode::PERMISSION_DENIED);

  v1::ForwardRequest other_federation = good;  // F4: keys from another log
  other_federation.mutable_sender()->set_federation_id("dorset-dev");
  EXPECT_EQ(forward(other_federation).error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  v1::ForwardRequest forged = good;  // F4: a checkpoint the hips log key did not sign
  std::string& note = *forged.mutable_sender()->mutable_key_history()->mutable_checkpoint_note();
  note[note.size() - 10] = note[note.size() - 10] == 'A' ? 'B' : 'A';
  EXPECT_EQ(forward(forged).error_code(), grpc::StatusCode::UNAUTHENTICATED);

  v1::ForwardRequest unknown_key = good;  // F4: a signing key the history does not hold
  unknown_key.mutable_signed_envelope()->set_signing_key_id(std::string(32, 'a'));
  EXPECT_EQ(forward(unknown_key).error_code(), grpc::StatusCode::UNAUTHENTICATED);

  // G6 for a peer: forwarded here, but for an agency this side does not serve.
  auto to_hips_agency =
      school->Seal(ExampleMessage(v1::MESSAGE_KIND_REFERRAL, "southsea-academy", "portsmouth-mash",
                                  "school-to-portsmouth-referral", "forward-checks-2",
                                  v1::PRACTITIONER_ROLE_DESIGNATED_SAFEGUARDING_LEAD));
  ASSERT_TRUE(to_hips_agency.ok()) << to_hips_agency.status();
  v1::ForwardRequest misrouted = good;
  *misrouted.mutable_signed_envelope() = *to_hips_agency;
  EXPECT_EQ(forward(misrouted).error_code(), grpc::StatusCode::NOT_FOUND);

  // The untouched request is taken: the refusals were the checks', not the harness's.
  const grpc::Status taken = forward(good);
  EXPECT_TRUE(taken.ok()) << taken.error_message();
}

TEST_F(PeeringE2eTest, APeerGatewayIsAcceptedOnlyAsAGatewayAndAgenciesOnlyFromTheirOwnCa) {
  ASSERT_TRUE(Start(hips_) && Start(dorset_));
  // Dorset's front door calling the hips gateway with its own certificate
  // (its TLS handshake succeeds: the hips gateway trusts Dorset's CA for
  // Dorset's gateway): a peer CA vouches for its gateway only, never for an
  // agency here.
  auto channel_as = [&](const std::string& identity_dir) {
    grpc::SslCredentialsOptions tls;
    tls.pem_root_certs = Read(hips_.dir + "/gateway/ca.pem");
    tls.pem_cert_chain = Read(identity_dir + "/cert.pem");
    tls.pem_private_key = Read(identity_dir + "/key.pem");
    return grpc::CreateChannel(hips_.gateway->target(), grpc::SslCredentials(tls));
  };
  {
    auto directory =
        v1::Directory::NewStub(channel_as(dorset_.dir + "/agencies/dorset-front-door"));
    grpc::ClientContext ctx;
    v1::ListAgenciesResponse response;
    const grpc::Status st = directory->ListAgencies(&ctx, v1::ListAgenciesRequest(), &response);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAUTHENTICATED) << st.error_message();
  }
  // Dorset's gateway certificate is good for PeerGateway only.
  {
    auto directory = v1::Directory::NewStub(channel_as(dorset_.dir + "/gateway"));
    grpc::ClientContext ctx;
    v1::ListAgenciesResponse response;
    const grpc::Status st = directory->ListAgencies(&ctx, v1::ListAgenciesRequest(), &response);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED) << st.error_message();
  }
  // An agency of this federation cannot call PeerGateway.
  auto stub = v1::PeerGateway::NewStub(channel_as(hips_.dir + "/agencies/southsea-academy"));
  grpc::ClientContext ctx;
  v1::GetAgencyRequest request;
  request.set_agency_id("portsmouth-mash");
  v1::GetAgencyResponse response;
  EXPECT_EQ(stub->GetAgency(&ctx, request, &response).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  auto school = School();
  ASSERT_TRUE(school);
  // Only the gateway records a peer's refusal; an agency cannot claim one.
  EXPECT_EQ(school->client()
                .RefuseContent("anything", v1::CONTENT_REFUSAL_REASON_REFUSED_BY_PEER_GATEWAY,
                               "pretending")
                .code(),
            absl::StatusCode::kInvalidArgument);

  // Keys of a peer's agency come through this gateway, proven by the peer's
  // log under the key the agent pinned; an agent that pinned none refuses
  // them rather than trust what this gateway says.
  auto keys = school->KeyHistory("dorset-front-door");
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_FALSE(keys->keys.empty());
  auto police =
      agents::AgencyAgent::Open(hips_.dir + "/agencies/hiow-police", hips_.gateway->target());
  ASSERT_TRUE(police.ok());
  auto unpinned = (*police)->KeyHistory("dorset-front-door");
  EXPECT_EQ(unpinned.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(unpinned.status().message().find("peers/dorset-dev"), std::string::npos)
      << unpinned.status();
}

}  // namespace
}  // namespace safeshare
