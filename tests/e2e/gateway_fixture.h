#ifndef SAFESHARE_TESTS_E2E_GATEWAY_FIXTURE_H_
#define SAFESHARE_TESTS_E2E_GATEWAY_FIXTURE_H_

// The end-to-end fixture: a development federation per suite, a real
// safeshare-gateway process per test, and helpers that build messages with
// the real agent code.

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "agents/agency_agent.h"
#include "agents/agent_client.h"
#include "agents/keyring.h"
#include "agents/outgoing_message.h"
#include "agents/pki/dev_pki.h"
#include "common/error_reason.h"
#include "envelope/content.h"
#include "envelope/sealing.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/support/test_support.h"
#include "verification/audit_verifier.h"

namespace safeshare {

using agents::AgentClient;
using agents::AgentIdentity;
using testing::CommandResult;
using testing::GatewayProcess;
using testing::RunCommand;
using testing::TempDir;

// A message from deploy/examples/<example>.json (the declaration) and
// <example>.payload.json (the content for `kind`).
inline agents::OutgoingMessage ExampleMessage(v1::MessageKind kind, const std::string& from,
                                              const std::string& to, const std::string& example,
                                              const std::string& message_id,
                                              v1::PractitionerRole role) {
  agents::OutgoingMessage m;
  m.message_id = message_id;
  m.kind = kind;
  m.sender_agency_id = from;
  m.recipient_agency_id = to;
  m.practitioner.set_id("staff-0001");
  m.practitioner.set_role(role);
  const std::string base = testing::SourceDir() + "/deploy/examples/" + example;
  auto read = [](const std::string& path) {
    std::ifstream in(path);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  EXPECT_TRUE(
      google::protobuf::util::JsonStringToMessage(read(base + ".json"), &m.declaration).ok());
  auto content = envelope::ParseContentJson(kind, read(base + ".payload.json"));
  EXPECT_TRUE(content.ok()) << content.status();
  if (content.ok()) m.content = *std::move(content);
  return m;
}

// The machine-readable reason a refusal carried over the wire, or "(none)".
inline std::string Reason(const absl::Status& status) {
  auto info = ReasonOf(status);
  if (!info.has_value()) return "(none)";
  EXPECT_EQ(info->domain(), "safeshare.uk");
  return info->reason();
}
// The field a refusal's reason names (metadata "field"), or "(none)".
inline std::string FieldOf(const absl::Status& status) {
  auto info = ReasonOf(status);
  if (!info.has_value() || !info->metadata().contains("field")) return "(none)";
  return info->metadata().at("field");
}

class GatewayE2eTest : public ::testing::Test {
 protected:
  // pki init once per suite; each test works on its own copy (below).
  static void SetUpTestSuite() {
    fed_tmp_ = new TempDir();
    suite_federation_ = testing::MakeFederation(*fed_tmp_);
    ASSERT_FALSE(suite_federation_.empty()) << "pki init failed";
  }
  static void TearDownTestSuite() {
    delete fed_tmp_;
    fed_tmp_ = nullptr;
  }

  void SetUp() override {
    UseOwnFederation();
    StartGateway({});
  }

  // A test that rotates or revokes keys changes its agencies' keyrings: each
  // test gets its own copy, so no test depends on which ran before it.
  void UseOwnFederation() {
    federation_ = data_.path() + "/federation";
    std::filesystem::copy(suite_federation_, federation_, std::filesystem::copy_options::recursive);
  }

  void StartGateway(std::vector<std::string> flags) {
    gateway_ = std::make_unique<GatewayProcess>(federation_, data_.path() + "/gw", flags);
    if (!gateway_->Start()) {
      std::ifstream in(gateway_->log_path());
      FAIL() << "gateway did not start:\n" << in.rdbuf();  // the directory goes with the test
    }
  }

  std::string AgencyDir(const std::string& id) const { return federation_ + "/agencies/" + id; }

  std::unique_ptr<AgentClient> ClientFor(const std::string& identity_dir) {
    auto id = agents::LoadIdentity(identity_dir);
    EXPECT_TRUE(id.ok()) << id.status();
    return AgentClient::Connect(gateway_->target(), *id, absl::Seconds(10));
  }
  std::unique_ptr<AgentClient> Agency(const std::string& id) { return ClientFor(AgencyDir(id)); }
  // An IG officer's client, e.g. Officer("hampshire-crt.dpo").
  std::unique_ptr<AgentClient> Officer(const std::string& dir) {
    return ClientFor(federation_ + "/officers/" + dir);
  }

  // Every audit record `officer` may see that matches `q`, all pages.
  // Key events (registrations at start, rotations) are audit records too;
  // tests of message flows leave them out unless asked.
  static bool IsKeyEvent(const v1::AuditRecord& r) {
    return r.event() == v1::AUDIT_EVENT_TYPE_KEY_REGISTERED ||
           r.event() == v1::AUDIT_EVENT_TYPE_KEY_PUBLISHED ||
           r.event() == v1::AUDIT_EVENT_TYPE_KEY_REVOKED;
  }
  std::vector<v1::AuditRecord> Query(AgentClient& officer, const v1::AuditQuery& q = {},
                                     bool with_key_events = false) {
    std::vector<v1::AuditRecord> out;
    std::string token;
    do {
      auto page = officer.QueryRecords(q, 0, token);
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok()) break;
      for (const auto& r : page->records()) {
        if (with_key_events || !IsKeyEvent(r)) out.push_back(r);
      }
      token = page->next_page_token();
    } while (!token.empty());
    return out;
  }

  static v1::SharingDeclaration Declaration() {
    v1::SharingDeclaration d;
    std::ifstream in(testing::SourceDir() + "/deploy/examples/police-to-portsmouth-referral.json");
    std::string json((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &d).ok());
    return d;
  }

  static v1::SealedContent Content(const std::string& concern = "sealed referral content") {
    v1::SealedContent c;
    auto* r = c.mutable_referral()->mutable_record();
    r->mutable_child()->set_given_names("Amelia");
    r->set_concern_details(concern);
    return c;
  }

  std::unique_ptr<agents::AgencyAgent> Agent(const std::string& id) {
    auto agent = agents::AgencyAgent::Open(AgencyDir(id), gateway_->target());
    EXPECT_TRUE(agent.ok()) << agent.status();
    return agent.ok() ? std::move(*agent) : nullptr;
  }

  static agents::OutgoingMessage Message(const std::string& from, const std::string& to,
                                         const std::string& message_id = "",
                                         v1::SealedContent content = Content()) {
    agents::OutgoingMessage m;
    m.message_id = message_id;
    m.sender_agency_id = from;
    m.recipient_agency_id = to;
    m.practitioner.set_id("pc-4471");
    m.practitioner.set_role(v1::PRACTITIONER_ROLE_POLICE_OFFICER);
    m.declaration = Declaration();
    m.content = std::move(content);
    return m;
  }

  // A referral sealed and signed by the sender agency's real agent code.
  v1::SignedEnvelope Referral(const std::string& from, const std::string& to,
                              const std::string& message_id = "",
                              v1::SealedContent content = Content()) {
    auto m = Message(from, to, message_id, std::move(content));
    auto agent = Agent(from);
    auto sealed = agent->Seal(m);
    EXPECT_TRUE(sealed.ok()) << sealed.status();
    return sealed.ok() ? *sealed : v1::SignedEnvelope();
  }

  // Seals by hand, bypassing the agent's own checks: what a faulty or hostile
  // sender could submit. Signs with `signer`'s newest key, seals to
  // `seal_to`'s current encryption key from the federation file.
  v1::SignedEnvelope SealByHand(v1::Envelope header, const std::string& plaintext,
                                const std::string& signer, const std::string& seal_to) {
    auto ring = agents::Keyring::Load(AgencyDir(signer));
    EXPECT_TRUE(ring.ok());
    auto signing = ring->Newest(envelope::PrivateKey::Type::kSigning);
    EXPECT_TRUE(signing.ok());
    v1::Federation fed;
    std::ifstream in(federation_ + "/federation.textproto");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &fed));
    envelope::RecipientKey to;
    for (const auto& a : fed.agencies()) {
      if (a.id() != seal_to) continue;
      for (const auto& k : a.keys()) {
        if (k.purpose() == v1::KEY_PURPOSE_ENCRYPTION) to = {k.key_id(), k.public_key()};
      }
    }
    auto sealed = envelope::SealAndSign(header, plaintext, to, *signing);
    EXPECT_TRUE(sealed.ok()) << sealed.status();
    return *sealed;
  }

  static v1::Envelope Header(const std::string& from, const std::string& to,
                             const std::string& message_id = "") {
    return agents::BuildEnvelopeHeader(Message(from, to, message_id));
  }

  static v1::Envelope Open(const v1::SignedEnvelope& s) {
    v1::Envelope e;
    EXPECT_TRUE(e.ParseFromString(s.envelope_bytes()));
    return e;
  }

  // The recipient's mailbox is empty (checked without consuming anything).
  void ExpectMailboxEmpty(const std::string& agency) {
    auto page = Agency(agency)->Fetch();
    ASSERT_TRUE(page.ok()) << page.status();
    EXPECT_EQ(page->messages_size(), 0);
  }

  // Every audit record, read as the partnership DPO (federation scope).
  std::vector<v1::AuditRecord> Audit() { return Query(*Officer("hampshire-crt.dpo")); }
  // How many keys the federation file registers (a key event each, without
  // asking the gateway: an officer's query is a record too).
  size_t FederationKeyCount() const {
    size_t n = 0;
    const v1::Federation fed = Federation();
    for (const auto& a : fed.agencies()) n += a.keys_size();
    return n;
  }
  // How many key events the whole log holds.
  size_t KeyEventCount() {
    size_t n = 0;
    for (const auto& r : Query(*Officer("hampshire-crt.dpo"), {}, true)) n += IsKeyEvent(r);
    return n;
  }

  // Exports the whole log as the partnership DPO and verifies it offline:
  // every record recomputed into the signed checkpoint the export starts
  // with, and every record the Audit service shows up to that checkpoint in
  // it. The query comes after the export, so a record the escalator appends
  // in between (it runs on its own clock) cannot make the two disagree.
  void ExpectAuditLogVerifies() {
    std::string jsonl;
    ASSERT_TRUE(Officer("hampshire-crt.dpo")
                    ->ExportRecords({}, v1::EXPORT_FORMAT_JSON_LINES,
                                    [&](const std::string& chunk) {
                                      jsonl += chunk;
                                      return absl::OkStatus();
                                    })
                    .ok());
    const std::string path = data_.path() + "/export.jsonl";
    std::ofstream(path) << jsonl;
    auto v = verification::VerifyAuditExport(path, AuditLog());
    ASSERT_TRUE(v.ok()) << v.status();
    EXPECT_TRUE(v->complete);
    EXPECT_EQ(v->records, v->tree_size);
    const std::vector<v1::AuditRecord> seen =
        Query(*Officer("hampshire-crt.dpo"), {}, /*with_key_events=*/true);
    ASSERT_GE(seen.size(), v->tree_size);
    for (uint64_t i = 0; i < v->tree_size; ++i) EXPECT_EQ(seen[i].sequence(), i);
  }

  v1::Federation Federation() const {
    v1::Federation fed;
    std::ifstream in(federation_ + "/federation.textproto");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &fed));
    return fed;
  }

  // The federation's audit log identity (origin and checkpoint key).
  v1::AuditLogIdentity AuditLog() const {
    const v1::Federation fed = Federation();
    return fed.audit_log();
  }

  static inline TempDir* fed_tmp_ = nullptr;
  static inline std::string suite_federation_;
  TempDir data_;
  std::string federation_;
  std::unique_ptr<GatewayProcess> gateway_;
};

}  // namespace safeshare

#endif  // SAFESHARE_TESTS_E2E_GATEWAY_FIXTURE_H_
