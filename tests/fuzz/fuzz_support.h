#ifndef SAFESHARE_TESTS_FUZZ_FUZZ_SUPPORT_H_
#define SAFESHARE_TESTS_FUZZ_FUZZ_SUPPORT_H_
// What every fuzz target shares: its keys, the identities its seeds use, and
// how a broken property is reported (an abort, which libFuzzer records as a
// crash with its input).

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/string_view.h"
#include "envelope/keys.h"
#include "google/protobuf/message.h"
#include "safeshare/v1/directory.pb.h"

namespace safeshare::fuzz {

// A property every input must keep; aborts naming it when one does not.
#define FUZZ_REQUIRE(condition, what)                                            \
  do {                                                                           \
    if (!(condition)) {                                                          \
      std::fprintf(stderr, "fuzz property broken: %s (%s)\n", what, #condition); \
      std::abort();                                                              \
    }                                                                            \
  } while (0)

// The audit log and agencies the seeds are signed for.
inline constexpr char kAuditOrigin[] = "safeshare.fuzz/audit";
inline constexpr char kFederation[] = "fuzz-federation";
inline constexpr char kSenderAgency[] = "portsmouth-mash";
inline constexpr char kRecipientAgency[] = "hiow-police";

// Where make_seeds writes the keys (keys/, 0600) and the signed seeds
// (seeds/<target>/): a directory of the build, never the repository.
std::string FuzzDir();
// Generates the keys under FuzzDir() that are not there yet; keeps the rest,
// so seeds already signed still verify.
void EnsureKeys();

// The keys, read once from FuzzDir(); a target aborts, saying to run
// make_seeds, when they are missing.
const envelope::PrivateKey& SenderSigningKey();
const envelope::PrivateKey& RecipientEncryptionKey();
const envelope::PrivateKey& AuditLogKey();
// The audit log identity the seeds' checkpoints are signed under.
const safeshare::v1::AuditLogIdentity& AuditLog();

// The development federation (deploy/dev-federation.textproto), parsed once.
const safeshare::v1::Federation& DevFederation();
// A file of the repository, e.g. "deploy/isa"; aborts when it cannot be read.
std::string SourcePath(absl::string_view relative);

// Whether two messages are equal field by field.
bool SameMessage(const google::protobuf::Message& a, const google::protobuf::Message& b);

inline absl::string_view Bytes(const uint8_t* data, size_t size) {
  return absl::string_view(reinterpret_cast<const char*>(data), size);
}

}  // namespace safeshare::fuzz

#endif  // SAFESHARE_TESTS_FUZZ_FUZZ_SUPPORT_H_
