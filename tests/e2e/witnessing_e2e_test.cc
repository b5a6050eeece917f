// Gateways witnessing each other (docs/federation.md): three partnerships,
// each with its own federation, CA, audit key and store, each a C2SP
// tlog-witness for the other two. Real gateway processes, real HTTPS.
#include <httplib.h>
#include <openssl/ssl.h>

#include <fstream>
#include <regex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/json_util.h"
#include "tests/e2e/gateway_fixture.h"
#include "transparency/checkpoint.h"
#include "transparency/cosignature.h"
#include "transparency/merkle.h"

namespace safeshare {
namespace {

std::string Read(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}
void Write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }
std::string Trim(std::string s) {
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

// The checkpoint a note carries; an error for anything else (an empty
// answer from a listener still starting, say).
absl::StatusOr<transparency::Checkpoint> BodyOf(const std::string& note) {
  auto parsed = transparency::ParseNote(note);
  if (!parsed.ok()) return parsed.status();
  return transparency::ParseCheckpointBody(parsed->text);
}

struct Partnership {
  std::string id;   // federation id
  std::string dir;  // pki init output
  int witness_port = 0;
  std::string origin() const { return "safeshare." + id + "/audit"; }
  std::string witness_name() const { return "safeshare." + id + "/witness"; }
  std::string log_vkey() const { return Trim(Read(dir + "/gateway/audit-log.vkey")); }
  std::string witness_vkey() const { return Trim(Read(dir + "/gateway/witness.vkey")); }
  std::string url() const { return absl::StrCat("https://localhost:", witness_port); }
};

class WitnessingE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string base = Read(testing::SourceDir() + "/deploy/dev-federation.textproto");
    for (const char* id : {"hips-dev", "dorset-dev", "west-sussex-dev"}) {
      Partnership p;
      p.id = id;
      p.dir = tmp_.path() + "/" + id;
      const std::string tmpl = tmp_.path() + "/" + std::string(id) + ".textproto";
      Write(tmpl, std::regex_replace(base, std::regex("id: \"hips-dev\""),
                                     absl::StrCat("id: \"", id, "\"")));
      auto r = testing::RunCommand(
          {testing::CliBinary(), "pki", "init", "--dir", p.dir, "--federation_template", tmpl});
      ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
      p.witness_port = testing::FreePort();
      ca_bundle_ += Read(p.dir + "/gateway/ca.pem");
      parts_.push_back(p);
    }
    Write(tmp_.path() + "/witness-cas.pem", ca_bundle_);
  }

  // Gateway i: witnesses the other two and asks them to cosign its log.
  std::unique_ptr<testing::GatewayProcess> Gateway(int i, const std::string& data_dir) {
    std::vector<std::string> follow, policy;
    for (int j = 0; j < 3; ++j) {
      if (j == i) continue;
      follow.push_back(parts_[j].log_vkey());
      policy.push_back(
          absl::StrCat("witness w", j, " ", parts_[j].witness_vkey(), " ", parts_[j].url()));
    }
    policy.push_back("group peers any w" + std::to_string(i == 0 ? 1 : 0) + " w" +
                     std::to_string(i == 2 ? 1 : 2));
    policy.push_back("quorum peers");
    const std::string policy_file = absl::StrCat(data_dir, "-policy.txt");
    Write(policy_file, absl::StrJoin(policy, "\n") + "\n");
    auto gw = std::make_unique<testing::GatewayProcess>(
        parts_[i].dir, data_dir,
        std::vector<std::string>{
            absl::StrCat("--witness_listen=127.0.0.1:", parts_[i].witness_port),
            "--witness_key=" + parts_[i].dir + "/gateway/witness-signing.pem",
            "--witness_name=" + parts_[i].witness_name(),
            "--follow_logs=" + absl::StrJoin(follow, ","), "--witness_policy=" + policy_file,
            "--witness_ca=" + tmp_.path() + "/witness-cas.pem", "--cosign_interval_ms=200"});
    if (!gw->Start()) {
      ADD_FAILURE() << "gateway " << parts_[i].id << " did not start:\n" << Read(gw->log_path());
      return nullptr;
    }
    return gw;
  }

  // GET /checkpoint from partnership i's listener, its certificate checked.
  std::string CheckpointOf(int i) {
    httplib::SSLClient client("localhost", parts_[i].witness_port);
    client.set_ca_cert_path(parts_[i].dir + "/gateway/ca.pem");
    client.enable_server_certificate_verification(true);
    SSL_CTX_set_min_proto_version(client.ssl_context(), TLS1_3_VERSION);
    auto res = client.Get("/checkpoint");
    return res && res->status == 200 ? res->body : "";
  }

  // Polls i's checkpoint until `done` holds for it (or 30 s pass).
  std::string WaitForCheckpoint(int i, const std::function<bool(const std::string&)>& done) {
    std::string note;
    for (int n = 0; n < 300; ++n) {
      note = CheckpointOf(i);
      if (!note.empty() && done(note)) return note;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return note;
  }

  std::vector<transparency::Witness> WitnessesOf(std::initializer_list<int> which) {
    std::vector<transparency::Witness> out;
    for (int j : which) {
      auto policy = transparency::WitnessPolicy::Parse(
          absl::StrCat("witness w ", parts_[j].witness_vkey(), "\nquorum w\n"));
      EXPECT_TRUE(policy.ok()) << policy.status();
      out.push_back(policy->witnesses()[0]);
    }
    return out;
  }

  // "2 of these 3": the other two partnerships' witnesses and a third that
  // never cosigns anything (its key is nobody's).
  std::string TwoOfThreePolicy(int log) {
    std::vector<std::string> lines;
    std::vector<std::string> names;
    for (int j = 0; j < 3; ++j) {
      if (j == log) continue;
      lines.push_back(absl::StrCat("witness w", j, " ", parts_[j].witness_vkey()));
      names.push_back(absl::StrCat("w", j));
    }
    auto stranger = envelope::PrivateKey::Generate(envelope::PrivateKey::Type::kSigning);
    lines.push_back(
        "witness stranger " +
        *transparency::WitnessVerifierKey("stranger.example/witness", stranger->RawPublicKey()));
    lines.push_back("group two-of-three 2 " + absl::StrJoin(names, " ") + " stranger");
    lines.push_back("quorum two-of-three");
    return absl::StrJoin(lines, "\n") + "\n";
  }

  // From partnership i's police force (or the identity in `identity_dir`).
  v1::SubmitResponse SendReferral(int i, const testing::GatewayProcess& gw, const std::string& id,
                                  std::string identity_dir = "") {
    if (identity_dir.empty()) identity_dir = parts_[i].dir + "/agencies/hiow-police";
    auto agent = agents::AgencyAgent::Open(identity_dir, gw.target());
    EXPECT_TRUE(agent.ok()) << agent.status();
    if (!agent.ok()) return {};
    auto m =
        ExampleMessage(v1::MESSAGE_KIND_REFERRAL, "hiow-police", "portsmouth-mash",
                       "police-to-portsmouth-referral", id, v1::PRACTITIONER_ROLE_POLICE_OFFICER);
    auto receipt = (*agent)->Send(m);
    EXPECT_TRUE(receipt.ok()) << receipt.status();
    return receipt.ok() ? *receipt : v1::SubmitResponse();
  }

  TempDir tmp_;
  std::string ca_bundle_;
  std::vector<Partnership> parts_;
};

TEST_F(WitnessingE2eTest, EachLogIsCosignedByBothPeersAndMeetsATwoOfThreePolicy) {
  auto a = Gateway(0, tmp_.path() + "/gw-a");
  auto b = Gateway(1, tmp_.path() + "/gw-b");
  auto c = Gateway(2, tmp_.path() + "/gw-c");
  ASSERT_TRUE(a && b && c);
  const v1::SubmitResponse receipt = SendReferral(0, *a, "witnessed-referral-1");
  const uint64_t receipt_size = receipt.audit_checkpoint().tree_size();
  ASSERT_GT(receipt_size, 0u);

  const auto peers = WitnessesOf({1, 2});
  const std::string note = WaitForCheckpoint(0, [&](const std::string& n) {
    auto cp = BodyOf(n);
    auto cosigners = transparency::VerifiedCosigners(n, peers);
    return cp.ok() && cp->size >= receipt_size && cosigners.ok() && cosigners->size() == 2;
  });
  // Signed by A's audit key, as its federation file says, and cosigned by B and C.
  const v1::Federation fed_a = [&] {
    v1::Federation f;
    google::protobuf::TextFormat::ParseFromString(Read(parts_[0].dir + "/federation.textproto"),
                                                  &f);
    return f;
  }();
  auto cp = transparency::VerifyCheckpoint(note, parts_[0].origin(), fed_a.audit_log().public_key(),
                                           parts_[0].origin());
  ASSERT_TRUE(cp.ok()) << cp.status() << "\n" << note;
  EXPECT_GE(cp->size, receipt_size);
  auto cosigners = transparency::VerifiedCosigners(note, peers);
  ASSERT_TRUE(cosigners.ok()) << cosigners.status();
  EXPECT_EQ(*cosigners, (std::set<std::string>{parts_[1].witness_name(), parts_[2].witness_name()}))
      << note;
  auto policy = transparency::WitnessPolicy::Parse(TwoOfThreePolicy(0));
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_TRUE(policy->Check(note).ok()) << policy->Check(note);

  // The receipt's checkpoint, signed by A alone at commit time, does not.
  EXPECT_EQ(policy->Check(receipt.audit_checkpoint().signed_note()).code(),
            absl::StatusCode::kUnauthenticated);

  // The sender fetches the decision's proof in the cosigned checkpoint into
  // its kept receipt, and checks it offline against the policy.
  const std::string cli = testing::CliBinary();
  const std::string receipt_file = tmp_.path() + "/receipt.json";
  std::string json;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(receipt, &json).ok());
  Write(receipt_file, json);
  const std::string two_of_three = tmp_.path() + "/two-of-three.policy";
  Write(two_of_three, TwoOfThreePolicy(0));
  const std::string federation_a = parts_[0].dir + "/federation.textproto";
  auto unwitnessed =
      testing::RunCommand({cli, "receipt", "verify", "--receipt", receipt_file, "--federation",
                           federation_a, "--witness_policy", two_of_three});
  EXPECT_EQ(unwitnessed.exit_code, 1) << unwitnessed.out << unwitnessed.err;
  EXPECT_NE(unwitnessed.out.find("no cosigned checkpoint"), std::string::npos) << unwitnessed.out;
  auto witnessed =
      testing::RunCommand({cli, "receipt", "witness", "--receipt", receipt_file, "--gateway",
                           a->target(), "--identity", parts_[0].dir + "/agencies/hiow-police"});
  ASSERT_EQ(witnessed.exit_code, 0) << witnessed.out << witnessed.err;
  auto verified =
      testing::RunCommand({cli, "receipt", "verify", "--receipt", receipt_file, "--federation",
                           federation_a, "--witness_policy", two_of_three});
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  EXPECT_NE(verified.out.find("cosigned by witnesses meeting the policy"), std::string::npos);
  // A policy that needs a witness nobody runs is not met.
  const std::string stranger_only = tmp_.path() + "/stranger.policy";
  Write(stranger_only, std::regex_replace(TwoOfThreePolicy(0), std::regex("quorum two-of-three"),
                                          "quorum stranger"));
  auto unmet =
      testing::RunCommand({cli, "receipt", "verify", "--receipt", receipt_file, "--federation",
                           federation_a, "--witness_policy", stranger_only});
  EXPECT_EQ(unmet.exit_code, 1) << unmet.out << unmet.err;
  EXPECT_NE(unmet.out.find("witness policy is not met"), std::string::npos) << unmet.out;
  // Another agency cannot fetch the sender's proof.
  auto other = agents::AgentClient::Connect(
      a->target(), *agents::LoadIdentity(parts_[0].dir + "/agencies/portsmouth-mash"),
      absl::Seconds(10));
  EXPECT_TRUE(absl::IsNotFound(other->WitnessReceipt(receipt.message_id()).status()));

  // An IG officer's export up to the cosigned checkpoint verifies offline
  // under the policy, and so does the stopped gateway's database.
  const std::string export_file = tmp_.path() + "/witnessed.jsonl";
  auto exported = testing::RunCommand({cli, "audit", "export", "--witnessed", "--out", export_file,
                                       "--gateway", a->target(), "--identity",
                                       parts_[0].dir + "/officers/hampshire-crt.dpo"});
  ASSERT_EQ(exported.exit_code, 0) << exported.out << exported.err;
  auto export_verified =
      testing::RunCommand({cli, "audit", "verify", "--export_file", export_file, "--federation",
                           federation_a, "--witness_policy", two_of_three});
  EXPECT_EQ(export_verified.exit_code, 0) << export_verified.out << export_verified.err;
  EXPECT_NE(export_verified.out.find("witnessed:"), std::string::npos) << export_verified.out;

  // B and C are witnessed too.
  for (int i : {1, 2}) {
    const auto others = WitnessesOf({0, i == 1 ? 2 : 1});
    const std::string n = WaitForCheckpoint(i, [&](const std::string& text) {
      auto s = transparency::VerifiedCosigners(text, others);
      return s.ok() && s->size() == 2;
    });
    auto p = transparency::WitnessPolicy::Parse(TwoOfThreePolicy(i));
    ASSERT_TRUE(p.ok());
    EXPECT_TRUE(p->Check(n).ok()) << parts_[i].id << ": " << p->Check(n) << "\n" << n;
  }
  a->Stop();
  auto db_verified =
      testing::RunCommand({cli, "audit", "verify", "--db", a->db_path(), "--federation",
                           federation_a, "--witness_policy", two_of_three});
  EXPECT_EQ(db_verified.exit_code, 0) << db_verified.out << db_verified.err;
  auto db_unmet = testing::RunCommand({cli, "audit", "verify", "--db", a->db_path(), "--federation",
                                       federation_a, "--witness_policy", stranger_only});
  EXPECT_EQ(db_unmet.exit_code, 1) << db_unmet.out << db_unmet.err;
}

TEST_F(WitnessingE2eTest, AWitnessRefusesAForkedLogEvenAfterItRestarts) {
  // The agent remembers the key log it verified and would itself refuse the
  // forked gateway (key transparency); the forked sends use a copy made
  // before, as a new agent would, so the witnesses are what stops the fork.
  const std::string fresh_police = tmp_.path() + "/fresh-police";
  std::filesystem::copy(parts_[0].dir + "/agencies/hiow-police", fresh_police,
                        std::filesystem::copy_options::recursive);
  auto b = Gateway(1, tmp_.path() + "/gw-b");
  auto c = Gateway(2, tmp_.path() + "/gw-c");
  ASSERT_TRUE(b && c);
  uint64_t cosigned_size = 0;
  {
    auto a = Gateway(0, tmp_.path() + "/gw-a");
    ASSERT_TRUE(a);
    const auto receipt = SendReferral(0, *a, "before-the-fork");
    const auto peers = WitnessesOf({1, 2});
    const std::string note = WaitForCheckpoint(0, [&](const std::string& n) {
      auto cp = BodyOf(n);
      auto s = transparency::VerifiedCosigners(n, peers);
      return cp.ok() && cp->size >= receipt.audit_checkpoint().tree_size() && s.ok() &&
             s->size() == 2;
    });
    auto cp = BodyOf(note);
    ASSERT_TRUE(cp.ok()) << note;
    cosigned_size = cp->size;
    a->Stop();
  }
  // B's memory of what it cosigned survives a crash.
  b->Kill();
  ASSERT_TRUE(b->Start()) << Read(b->log_path());

  // The same log key and origin over a fresh store: another history, which
  // A could show to someone else. Grown past what B cosigned.
  auto forked = Gateway(0, tmp_.path() + "/gw-a-forked");
  ASSERT_TRUE(forked);
  for (int n = 0; n < 3; ++n) {
    SendReferral(0, *forked, absl::StrCat("after-the-fork-", n), fresh_police);
  }
  std::string note;
  for (int n = 0; n < 300; ++n) {
    note = CheckpointOf(0);
    auto cp = BodyOf(note);
    // An early round, before the fork outgrew what was cosigned, is refused
    // with 409; wait for the refusals of the grown fork's proof.
    if (cp.ok() && cp->size > cosigned_size &&
        Read(b->log_path()).find("DATA_LOSS") != std::string::npos &&
        Read(c->log_path()).find("DATA_LOSS") != std::string::npos &&
        Read(forked->log_path()).find("DATA_LOSS") != std::string::npos) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  auto cp = BodyOf(note);
  ASSERT_TRUE(cp.ok()) << note;
  ASSERT_GT(cp->size, cosigned_size);
  // Neither witness cosigned the fork, and both said why: the proof from what
  // they cosigned does not verify (422, DATA_LOSS).
  auto cosigners = transparency::VerifiedCosigners(note, WitnessesOf({1, 2}));
  ASSERT_TRUE(cosigners.ok());
  EXPECT_TRUE(cosigners->empty()) << note;
  for (auto* w : {b.get(), c.get()}) {
    const std::string log = Read(w->log_path());
    EXPECT_NE(log.find("\"witness.refused\""), std::string::npos) << log;
    EXPECT_NE(log.find("DATA_LOSS"), std::string::npos) << log;
  }
  EXPECT_NE(Read(forked->log_path()).find("DATA_LOSS"), std::string::npos)
      << "the forked gateway is told why";
  // A receipt signed by the forked gateway alone fails the 2-of-3 policy.
  auto policy = transparency::WitnessPolicy::Parse(TwoOfThreePolicy(0));
  ASSERT_TRUE(policy.ok());
  EXPECT_EQ(policy->Check(note).code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(WitnessingE2eTest, TheWitnessEndpointAnswersWithTheSpecStatuses) {
  auto b = Gateway(1, tmp_.path() + "/gw-b");
  ASSERT_TRUE(b);
  httplib::SSLClient client("localhost", parts_[1].witness_port);
  client.set_ca_cert_path(parts_[1].dir + "/gateway/ca.pem");
  client.enable_server_certificate_verification(true);
  // A log B does not follow: 404. Malformed: 400.
  auto own = CheckpointOf(1);
  ASSERT_FALSE(own.empty());
  auto res = client.Post("/add-checkpoint", "old 0\n\n" + own, "text/plain");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404) << res->body;
  res = client.Post("/add-checkpoint", "old x\n\n" + own, "text/plain");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400) << res->body;
  // A's checkpoint with a signature by another key: 403.
  auto forged = envelope::PrivateKey::Generate(envelope::PrivateKey::Type::kSigning);
  auto note = transparency::SignCheckpoint({parts_[0].origin(), 1, std::string(32, '\x01')},
                                           parts_[0].origin(), forged->get());
  ASSERT_TRUE(note.ok());
  res = client.Post("/add-checkpoint", "old 0\n\n" + *note, "text/plain");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 403) << res->body;
  // A real one from A, first at old 0 (cosigned), then at a stale size: 409
  // naming the size B holds.
  auto a = Gateway(0, tmp_.path() + "/gw-a");
  ASSERT_TRUE(a);
  const auto peers = WitnessesOf({1});
  const std::string cosigned = WaitForCheckpoint(0, [&](const std::string& n) {
    auto s = transparency::VerifiedCosigners(n, peers);
    return s.ok() && s->size() == 1;
  });
  auto cp = BodyOf(cosigned);
  ASSERT_TRUE(cp.ok()) << cosigned;
  res = client.Post("/add-checkpoint", "old 0\n\n" + cosigned, "text/plain");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 409) << res->body;
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/x.tlog.size");
  uint64_t held = 0;
  EXPECT_TRUE(absl::SimpleAtoi(Trim(res->body), &held)) << res->body;
  EXPECT_GE(held, cp->size);
}

// A monitor with no certificate of the federation: it reads the checkpoint,
// the tiles and the entry bundles over HTTPS, checks every entry against its
// leaf hash, recomputes the root and checks it against the signed checkpoint.
TEST_F(WitnessingE2eTest, AMonitorRecomputesTheRootFromTheTiles) {
  auto a = Gateway(0, tmp_.path() + "/gw-a");
  ASSERT_TRUE(a);
  // Past one full tile of 256 leaves, so a level-1 tile exists.
  for (int n = 0; n < 260; ++n) SendReferral(0, *a, absl::StrCat("tiled-", n));
  httplib::SSLClient client("localhost", parts_[0].witness_port);
  client.set_ca_cert_path(parts_[0].dir + "/gateway/ca.pem");
  client.enable_server_certificate_verification(true);
  auto get = [&](const std::string& path) {
    auto res = client.Get(path);
    EXPECT_TRUE(res && res->status == 200) << path << ": " << (res ? res->body : "no answer");
    return res && res->status == 200 ? res->body : std::string();
  };
  const std::string note = get("/checkpoint");
  v1::Federation fed;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(
      Read(parts_[0].dir + "/federation.textproto"), &fed));
  auto cp = transparency::VerifyCheckpoint(note, parts_[0].origin(), fed.audit_log().public_key(),
                                           parts_[0].origin());
  ASSERT_TRUE(cp.ok()) << cp.status();
  ASSERT_GT(cp->size, 256u);
  auto tile_path = [](const std::string& kind, uint64_t n, uint64_t width) {
    // Indexes below 1000 here: one path element (tile_path_test has more).
    const std::string path = absl::StrFormat("/tile/%s/%03d", kind, n);
    return width == 256 ? path : absl::StrCat(path, ".p/", width);
  };
  transparency::MemoryTree tree;
  std::vector<std::string> first_tile;
  for (uint64_t n = 0; n * 256 < cp->size; ++n) {
    const uint64_t width = std::min<uint64_t>(256, cp->size - n * 256);
    const std::string hashes = get(tile_path("0", n, width));
    const std::string bundle = get(tile_path("entries", n, width));
    ASSERT_EQ(hashes.size(), width * 32);
    size_t at = 0;
    for (uint64_t i = 0; i < width; ++i) {
      const std::string leaf_hash = hashes.substr(i * 32, 32);
      ASSERT_LE(at + 2, bundle.size());
      const size_t len = (static_cast<unsigned char>(bundle[at]) << 8) |
                         static_cast<unsigned char>(bundle[at + 1]);
      const std::string entry = bundle.substr(at + 2, len);
      at += 2 + len;
      EXPECT_EQ(transparency::LeafHash(entry), leaf_hash) << "entry " << n * 256 + i;
      v1::AuditRecord record;
      EXPECT_TRUE(record.ParseFromString(entry));
      EXPECT_TRUE(record.declaration().necessity_justification().empty())
          << "free text is published only as its commitment";
      ASSERT_TRUE(tree.AppendLeafHash(leaf_hash).ok());
      if (n == 0) first_tile.push_back(leaf_hash);
    }
    EXPECT_EQ(at, bundle.size());
  }
  auto root = tree.Root(cp->size);
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(*root, cp->root_hash) << "the tiles recompute the signed root";
  // Level 1: the hash of the first full level-0 tile.
  transparency::MemoryTree first;
  for (const auto& h : first_tile) ASSERT_TRUE(first.AppendLeafHash(h).ok());
  EXPECT_EQ(get("/tile/1/000.p/1"), *first.Root(256));
  // Beyond the log, and not canonical: 404.
  auto beyond = client.Get(tile_path("0", 5, 256));
  ASSERT_TRUE(beyond);
  EXPECT_EQ(beyond->status, 404);
  auto odd = client.Get("/tile/0/0.p/01");
  ASSERT_TRUE(odd);
  EXPECT_EQ(odd->status, 404);
}

}  // namespace
}  // namespace safeshare