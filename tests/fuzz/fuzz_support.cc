#include "tests/fuzz/fuzz_support.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/files.h"
#include "gateway/text_format_loader.h"
#include "google/protobuf/stubs/logging.h"
#include "google/protobuf/util/message_differencer.h"

namespace safeshare::fuzz {
namespace {

struct KeyFile {
  const char* name;
  envelope::PrivateKey::Type type;
};
constexpr KeyFile kSenderSigning{"sender-signing.pem", envelope::PrivateKey::Type::kSigning};
constexpr KeyFile kRecipientEncryption{"recipient-encryption.pem",
                                       envelope::PrivateKey::Type::kEncryption};
constexpr KeyFile kAuditLog{"audit-log.pem", envelope::PrivateKey::Type::kSigning};

std::string KeyPath(const KeyFile& key) { return absl::StrCat(FuzzDir(), "/keys/", key.name); }

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "fuzz keys: %s\n", what.c_str());
  std::abort();
}

const envelope::PrivateKey& Load(const KeyFile& file) {
  auto pem = ReadFile(KeyPath(file));
  if (!pem.ok()) Die(absl::StrCat(pem.status().ToString(), " (run make_seeds first)"));
  auto key = envelope::PrivateKey::FromPem(*pem);
  if (!key.ok()) Die(key.status().ToString());
  return *new envelope::PrivateKey(*std::move(key));  // lives for the process
}

}  // namespace

std::string FuzzDir() { return SAFESHARE_FUZZ_DIR; }

void EnsureKeys() {
  std::filesystem::create_directories(absl::StrCat(FuzzDir(), "/keys"));
  for (const KeyFile& file : {kSenderSigning, kRecipientEncryption, kAuditLog}) {
    if (std::filesystem::exists(KeyPath(file))) continue;
    auto key = envelope::PrivateKey::Generate(file.type);
    if (!key.ok()) Die(key.status().ToString());
    if (auto st = WriteFileAtomically(KeyPath(file), key->Pem(), 0600); !st.ok()) {
      Die(st.ToString());
    }
  }
}

const envelope::PrivateKey& SenderSigningKey() {
  static const envelope::PrivateKey& key = Load(kSenderSigning);
  return key;
}

const envelope::PrivateKey& RecipientEncryptionKey() {
  static const envelope::PrivateKey& key = Load(kRecipientEncryption);
  return key;
}

const envelope::PrivateKey& AuditLogKey() {
  static const envelope::PrivateKey& key = Load(kAuditLog);
  return key;
}

const safeshare::v1::AuditLogIdentity& AuditLog() {
  static const auto* log = [] {
    auto* out = new safeshare::v1::AuditLogIdentity;
    out->set_origin(kAuditOrigin);
    out->set_public_key(AuditLogKey().RawPublicKey());
    return out;
  }();
  return *log;
}

std::string SourcePath(absl::string_view relative) {
  return absl::StrCat(SAFESHARE_SOURCE_DIR, "/", relative);
}

const safeshare::v1::Federation& DevFederation() {
  static const auto* federation = [] {
    auto* out = new safeshare::v1::Federation;
    auto st = gateway::LoadTextProtoFile(SourcePath("deploy/dev-federation.textproto"), out);
    if (!st.ok()) {
      std::fprintf(stderr, "%s\n", st.ToString().c_str());
      std::abort();
    }
    return out;
  }();
  return *federation;
}

bool SameMessage(const google::protobuf::Message& a, const google::protobuf::Message& b) {
  return google::protobuf::util::MessageDifferencer::Equals(a, b);
}

}  // namespace safeshare::fuzz

// Protobuf logs every string field that is not UTF-8 as an ERROR; the
// targets see millions of them.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}
