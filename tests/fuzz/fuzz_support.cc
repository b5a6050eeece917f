#include "tests/fuzz/fuzz_support.h"

#include "absl/strings/str_cat.h"
#include "gateway/text_format_loader.h"
#include "google/protobuf/stubs/logging.h"
#include "google/protobuf/util/message_differencer.h"
#include "tests/fuzz/fuzz_keys.h"

namespace safeshare::fuzz {
namespace {

const envelope::PrivateKey& Key(const char* pem) {
  auto key = envelope::PrivateKey::FromPem(pem);
  if (!key.ok()) {
    std::fprintf(stderr, "fuzz key does not parse: %s\n", key.status().ToString().c_str());
    std::abort();
  }
  return *new envelope::PrivateKey(*std::move(key));  // lives for the process
}

}  // namespace

const envelope::PrivateKey& SenderSigningKey() {
  static const envelope::PrivateKey& key = Key(kSenderSigningPem);
  return key;
}

const envelope::PrivateKey& RecipientEncryptionKey() {
  static const envelope::PrivateKey& key = Key(kRecipientEncryptionPem);
  return key;
}

const envelope::PrivateKey& AuditLogKey() {
  static const envelope::PrivateKey& key = Key(kAuditLogPem);
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
