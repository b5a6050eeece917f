// Writes the fuzz targets' signed seeds (<FuzzDir>/seeds/<target>/) from the
// repository's examples, with keys it generates at run time (<FuzzDir>/keys/,
// kept between runs), and checks that each signed seed passes the verifier
// it feeds, so that the fuzzers start from inputs that reach past signatures
// and proofs. CTest runs it before the corpus replays (README.md).
//   make_seeds <source dir>
#include <filesystem>
#include <fstream>
#include <random>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "agents/key_log.h"
#include "common/files.h"
#include "common/time.h"
#include "envelope/content.h"
#include "envelope/key_statement.h"
#include "envelope/sealing.h"
#include "google/protobuf/util/json_util.h"
#include "policy/isa.h"
#include "safeshare/v1/content.pb.h"
#include "tests/fuzz/fuzz_support.h"
#include "transparency/checkpoint.h"
#include "transparency/merkle.h"
#include "verification/audit_verifier.h"

namespace fs = std::filesystem;
namespace sf = safeshare::fuzz;
namespace st = safeshare::transparency;
namespace v1 = safeshare::v1;

namespace {

fs::path corpus;

void Write(const std::string& target, const std::string& name, absl::string_view bytes) {
  fs::create_directories(corpus / target);
  std::ofstream(corpus / target / name, std::ios::binary) << bytes;
}

template <typename T>
T Ok(absl::StatusOr<T> v, const char* what) {
  if (!v.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, v.status().ToString().c_str());
    std::exit(1);
  }
  return *std::move(v);
}

void Ok(const absl::Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
    std::exit(1);
  }
}

std::string Serialized(const google::protobuf::Message& m) {
  std::string out;
  m.SerializeToString(&out);
  return out;
}

const absl::Time kNow = absl::FromUnixSeconds(1780000000);  // 2026-05-28

v1::MessageKind KindOf(const std::string& example) {
  if (example.find("operation-encompass") != std::string::npos) {
    return v1::MESSAGE_KIND_OPERATION_ENCOMPASS;
  }
  if (example.find("request") != std::string::npos) return v1::MESSAGE_KIND_INFORMATION_REQUEST;
  if (example.find("response") != std::string::npos) return v1::MESSAGE_KIND_INFORMATION_RESPONSE;
  if (example.find("outcome") != std::string::npos) return v1::MESSAGE_KIND_OUTCOME;
  return v1::MESSAGE_KIND_REFERRAL;
}

// Envelopes, content and their JSON, from the declarations (and payloads) in
// deploy/examples.
void Envelopes(const fs::path& source) {
  const auto recipient = safeshare::envelope::RecipientKey{
      sf::RecipientEncryptionKey().KeyId(), sf::RecipientEncryptionKey().RawPublicKey()};
  int n = 0;
  for (const auto& entry : fs::directory_iterator(source / "deploy/examples")) {
    const std::string path = entry.path().string();
    if (entry.path().extension() != ".json" || path.find(".payload.") != std::string::npos) {
      continue;
    }
    const std::string json = Ok(safeshare::ReadFile(path), "example");
    const std::string stem = entry.path().stem().string();
    Write("proto_json", stem, "0" + json);
    v1::Envelope envelope;
    Ok(safeshare::policy::ParseProtoJson(json, envelope.mutable_declaration()), "example");
    envelope.set_message_id(absl::StrCat("seed-", ++n));
    envelope.set_kind(KindOf(stem));
    if (envelope.kind() == v1::MESSAGE_KIND_INFORMATION_RESPONSE ||
        envelope.kind() == v1::MESSAGE_KIND_OUTCOME) {
      envelope.set_in_reply_to("seed-request");
    }
    envelope.set_sender_agency_id(sf::kSenderAgency);
    envelope.set_recipient_agency_id(sf::kRecipientAgency);
    envelope.mutable_sender_practitioner()->set_id("practitioner-1");
    envelope.mutable_sender_practitioner()->set_role(v1::PRACTITIONER_ROLE_SOCIAL_WORKER);
    *envelope.mutable_created_time() = safeshare::ToTimestamp(kNow);
    std::string header_json;
    if (!google::protobuf::util::MessageToJsonString(envelope, &header_json).ok()) std::exit(1);
    Write("proto_json", stem + ".envelope", "2" + header_json);

    std::string plaintext;
    const std::string payload_path =
        (source / "deploy/examples" / (stem + ".payload.json")).string();
    if (fs::exists(payload_path)) {
      const std::string payload_json = Ok(safeshare::ReadFile(payload_path), "payload");
      Write("proto_json", stem + ".payload",
            "1" + std::string(1, static_cast<char>(envelope.kind())) + payload_json);
      plaintext = Serialized(Ok(
          safeshare::envelope::ParseContentJson(envelope.kind(), payload_json), "example payload"));
      Write("open_envelope", stem + ".content", "\x01" + plaintext);
    }
    auto sealed =
        Ok(safeshare::envelope::SealAndSign(envelope, plaintext, recipient, sf::SenderSigningKey()),
           "seal");
    Ok(safeshare::envelope::VerifySignature(sealed, sf::SenderSigningKey().RawPublicKey()),
       "seed signature");
    Write("signed_envelope", stem, Serialized(sealed));
    Write("open_envelope", stem, std::string(1, '\0') + Serialized(sealed));
  }
}

void Agreements(const fs::path& source) {
  for (const auto& entry : fs::directory_iterator(source / "deploy/isa")) {
    if (entry.path().extension() != ".json") continue;
    Write("isa", entry.path().filename().string(),
          Ok(safeshare::ReadFile(entry.path().string()), "agreement"));
  }
}

void Configs(const fs::path& source) {
  Write("text_config", "dev-federation",
        "1" + Ok(safeshare::ReadFile((source / "deploy/dev-federation.textproto").string()),
                 "federation"));
  Write("text_config", "gateway",
        "0"
        R"(listen_address: "127.0.0.1:0"
tls {
  ca_cert_file: "/etc/safeshare/ca.pem"
  cert_file: "/etc/safeshare/gateway.pem"
  key_file: "/etc/safeshare/gateway.key"
}
store: "sqlite:/var/lib/safeshare/gateway.db"
federation_file: "/etc/safeshare/federation.textproto"
isa_dir: "/etc/safeshare/isa"
audit_signing_key_file: "/etc/safeshare/audit-signing.pem"
rule_pack: "2024"
max_message_bytes: 4194304
limits { max_declaration_bytes: 16384 max_replies_per_thread: 20 }
delivery { urgent_ack_seconds: 3600 bank_holidays: "2026-12-25" time_zone: "Europe/London" }
)");
}

// Bytes for the structure-aware targets: any bytes are a valid input; these
// give the fuzzers a varied start.
void RandomSeeds(const std::string& target, int count) {
  std::mt19937 rng(20261203);
  for (int i = 0; i < count; ++i) {
    std::string bytes(64 + 32 * i, '\0');
    for (char& c : bytes) c = static_cast<char>(rng() & 0xff);
    Write(target, absl::StrCat("random-", i), bytes);
  }
}

// A log of DECISION records signed by the fuzz audit key: receipts, exports
// and checkpoints from it.
void AuditLog() {
  st::MemoryTree tree;
  std::vector<std::string> records;
  for (uint64_t i = 0; i < 7; ++i) {
    v1::AuditRecord r;
    r.set_sequence(i);
    *r.mutable_time() = safeshare::ToTimestamp(kNow + absl::Minutes(i));
    r.set_event(v1::AUDIT_EVENT_TYPE_DECISION);
    r.set_message_id(absl::StrCat("seed-", i));
    r.set_kind(v1::MESSAGE_KIND_REFERRAL);
    r.set_sender_agency_id(sf::kSenderAgency);
    r.set_recipient_agency_id(sf::kRecipientAgency);
    r.mutable_decision()->set_decision(v1::DECISION_ALLOW);
    r.mutable_decision()->set_isa_id("hips-police-front-doors");
    records.push_back(Serialized(r));
    tree.Append(records.back());
  }
  const uint64_t size = tree.size();
  const st::Checkpoint cp{sf::kAuditOrigin, size, Ok(tree.Root(), "root")};
  const std::string note =
      Ok(st::SignCheckpoint(cp, sf::kAuditOrigin, sf::AuditLogKey().get()), "sign");
  Write("checkpoint", "note", note);
  Write("checkpoint", "body", st::CheckpointBody(cp));
  Write("checkpoint", "verifier-key",
        Ok(st::VerifierKey(sf::kAuditOrigin, sf::AuditLogKey().RawPublicKey()), "verifier key"));

  for (uint64_t i : {uint64_t{0}, uint64_t{3}, size - 1}) {
    v1::SubmitResponse receipt;
    v1::AuditRecord r;
    r.ParseFromString(records[i]);
    receipt.set_message_id(r.message_id());
    *receipt.mutable_decision() = r.decision();
    receipt.set_audit_record(records[i]);
    receipt.mutable_audit_checkpoint()->set_signed_note(note);
    auto* proof = receipt.mutable_audit_inclusion_proof();
    proof->set_leaf_index(i);
    proof->set_tree_size(size);
    for (auto& h : Ok(st::InclusionProof(tree, i, size), "proof")) proof->add_hashes(h);
    Ok(safeshare::verification::VerifyReceipt(receipt, sf::AuditLog()), "seed receipt");
    Write("receipt", absl::StrCat("leaf-", i), Serialized(receipt));
  }

  // A complete export and a filtered one (every record with its proof).
  for (bool filtered : {false, true}) {
    v1::AuditExportLine head;
    head.set_checkpoint_note(note);
    head.set_tree_size(size);
    std::string text;
    std::string line;
    if (!google::protobuf::util::MessageToJsonString(head, &line).ok()) std::exit(1);
    text += line + "\n";
    for (uint64_t i = 0; i < size; ++i) {
      if (filtered && i % 2 == 1) continue;
      v1::AuditExportLine rec;
      rec.set_index(i);
      rec.set_leaf_hash(absl::BytesToHexString(st::LeafHash(records[i])));
      rec.set_record_bytes(records[i]);
      rec.mutable_record()->ParseFromString(records[i]);
      if (filtered) {
        for (auto& h : Ok(st::InclusionProof(tree, i, size), "proof")) {
          rec.add_inclusion_proof(absl::BytesToHexString(h));
        }
      }
      line.clear();
      if (!google::protobuf::util::MessageToJsonString(rec, &line).ok()) std::exit(1);
      text += line + "\n";
    }
    const std::string path =
        (corpus / "audit_export" / (filtered ? "filtered" : "complete")).string();
    Write("audit_export", filtered ? "filtered" : "complete", text);
    Ok(safeshare::verification::VerifyAuditExport(path, sf::AuditLog()).status(), "seed export");
  }
}

// One agency's key history: its signing key registered, an encryption key
// published under a statement it signed, then that key revoked, all in a log
// signed by the fuzz audit key.
void KeyHistory() {
  const auto& signing = sf::SenderSigningKey();
  const auto& encryption = sf::RecipientEncryptionKey();  // any X25519 key will do
  st::MemoryTree tree;
  std::vector<std::string> records;
  auto event = [&](v1::AuditEventType type, const v1::PublicKey& key,
                   const v1::SignedKeyStatement* s) {
    v1::AuditRecord r;
    r.set_sequence(tree.size());
    *r.mutable_time() = safeshare::ToTimestamp(kNow + absl::Minutes(tree.size()));
    r.set_event(type);
    r.set_sender_agency_id(sf::kSenderAgency);
    auto* e = r.mutable_key_event();
    e->set_agency_id(sf::kSenderAgency);
    *e->mutable_key() = key;
    if (s != nullptr) *e->mutable_statement() = *s;
    if (!records.empty()) {
      e->set_has_previous(true);
      e->set_previous_event_index(tree.size() - 1);
    }
    records.push_back(Serialized(r));
    tree.Append(records.back());
  };
  const v1::PublicKey signing_entry =
      safeshare::envelope::PublicKeyEntry(signing, kNow - absl::Hours(24));
  event(v1::AUDIT_EVENT_TYPE_KEY_REGISTERED, signing_entry, nullptr);

  v1::KeyStatement publish;
  publish.set_federation_id(sf::kFederation);
  publish.set_agency_id(sf::kSenderAgency);
  publish.set_action(v1::KeyStatement::ACTION_PUBLISH);
  const v1::PublicKey published =
      safeshare::envelope::PublicKeyEntry(encryption, kNow - absl::Hours(1));
  *publish.mutable_key() = published;
  publish.mutable_key()->clear_current();  // the directory's to set
  publish.set_previous_event_index(0);
  *publish.mutable_signed_time() = safeshare::ToTimestamp(kNow);
  const auto signed_publish = Ok(safeshare::envelope::SignKeyStatement(publish, signing), "sign");
  event(v1::AUDIT_EVENT_TYPE_KEY_PUBLISHED, published, &signed_publish);

  v1::KeyStatement revoke = publish;
  revoke.clear_key();
  revoke.set_action(v1::KeyStatement::ACTION_REVOKE);
  revoke.set_revoke_key_id(encryption.KeyId());
  revoke.set_previous_event_index(1);
  const auto signed_revoke = Ok(safeshare::envelope::SignKeyStatement(revoke, signing), "sign");
  v1::PublicKey revoked = published;
  revoked.set_current(false);
  revoked.set_revoked(true);
  event(v1::AUDIT_EVENT_TYPE_KEY_REVOKED, revoked, &signed_revoke);

  const st::Checkpoint cp{sf::kAuditOrigin, tree.size(), Ok(tree.Root(), "root")};
  v1::KeyHistory history;
  history.set_checkpoint_note(
      Ok(st::SignCheckpoint(cp, sf::kAuditOrigin, sf::AuditLogKey().get()), "sign"));
  for (uint64_t i = 0; i < tree.size(); ++i) {
    auto* p = history.add_events();
    p->set_leaf_index(i);
    p->set_record(records[i]);
    for (auto& h : Ok(st::InclusionProof(tree, i, tree.size()), "proof")) p->add_inclusion_proof(h);
  }
  Ok(safeshare::agents::VerifyKeyHistory(sf::kFederation, sf::kSenderAgency, history, cp).status(),
     "seed key history");
  Write("key_history", "register-publish-revoke", Serialized(history));
  history.mutable_events()->DeleteSubrange(1, 2);
  Write("key_history", "register", Serialized(history));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_seeds <source dir>\n");
    return 2;
  }
  const fs::path source = argv[1];
  sf::EnsureKeys();
  corpus = fs::path(sf::FuzzDir()) / "seeds";
  fs::remove_all(corpus);
  Envelopes(source);
  Agreements(source);
  Configs(source);
  RandomSeeds("policy_engine", 8);
  RandomSeeds("merkle_proof", 8);
  AuditLog();
  KeyHistory();
  std::printf("seeds written under %s\n", corpus.c_str());
  return 0;
}
