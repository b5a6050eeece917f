#ifndef SAFESHARE_BENCH_LOADGEN_WORKLOAD_H_
#define SAFESHARE_BENCH_LOADGEN_WORKLOAD_H_

// What the load generator sends: referrals between development-federation
// agencies that the deploy/isa agreements ALLOW, sealed and signed with each
// sender's own keys by the agent library, each with a fresh message id.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "envelope/keys.h"
#include "safeshare/v1/content.pb.h"
#include "safeshare/v1/directory.pb.h"
#include "safeshare/v1/envelope.pb.h"
#include "safeshare/v1/referrals.pb.h"

namespace safeshare::bench {

// A sender agency, the recipients its agreements let it refer to, and the
// example declaration (deploy/examples) that passes the golden rules for it.
struct Route {
  std::string sender;
  std::vector<std::string> recipients;
  std::string declaration_file;        // under the examples directory
  bool without_criminal_offence_data;  // the agreement does not cover it
  safeshare::v1::PractitionerRole role;
};

// The development federation's senders, in the order --agencies takes them.
const std::vector<Route>& DevFederationRoutes();
inline constexpr int kMaxAgencies = 8;

// The agencies with their directory keys, by id.
using AgencyDirectory = std::map<std::string, safeshare::v1::Agency>;

// Reads the directory from the federation file that `pki init` wrote (for the
// echo target, which has no directory service).
absl::StatusOr<AgencyDirectory> LoadDirectoryFile(const std::string& federation_file);

struct WorkloadOptions {
  std::string federation_dir;   // from `safeshare pki init`
  std::string examples_dir;     // deploy/examples
  int agencies = 4;             // the first N routes send
  size_t payload_bytes = 2048;  // serialized SealedContent, before sealing
  std::string run_id;           // message ids are lg-<run_id>-<index>
};

// Builds the sealed referral for call `index`: sender index % agencies, the
// sender's recipients in turn. Thread-safe once created.
class EnvelopeFactory {
 public:
  static absl::StatusOr<std::unique_ptr<EnvelopeFactory>> Create(const WorkloadOptions& options,
                                                                 const AgencyDirectory& directory);

  int agencies() const { return static_cast<int>(senders_.size()); }
  int agency_of(uint64_t index) const { return static_cast<int>(index % senders_.size()); }
  const std::string& sender_dir(int agency) const { return senders_[agency].identity_dir; }
  const std::string& sender_id(int agency) const { return senders_[agency].route->sender; }
  // Where `pki init` put an agency's certificate and keys.
  std::string AgencyDir(const std::string& agency_id) const;
  const std::string& recipient_of(uint64_t index) const;
  // Every recipient some sender uses, most used first.
  std::vector<std::string> Recipients() const;

  std::string MessageId(uint64_t index) const;
  // The call index of a message id this run made, or -1.
  int64_t IndexOf(const std::string& message_id) const;

  absl::StatusOr<safeshare::v1::SubmitRequest> Build(uint64_t index) const;

 private:
  struct Sender {
    const Route* route;
    std::string identity_dir;
    envelope::PrivateKey signing_key;
    safeshare::v1::SharingDeclaration declaration;
    std::vector<std::string> recipient_key_ids, recipient_keys;
  };
  EnvelopeFactory() = default;

  std::string federation_dir_;
  std::vector<Sender> senders_;
  safeshare::v1::SealedContent content_;
  std::string id_prefix_;
};

// Builds requests [first, first + count) on `threads` threads into `out`,
// which must already hold at least first + count slots.
absl::Status BuildRange(const EnvelopeFactory& factory, uint64_t first, uint64_t count, int threads,
                        std::vector<std::unique_ptr<safeshare::v1::SubmitRequest>>* out);

}  // namespace safeshare::bench

#endif  // SAFESHARE_BENCH_LOADGEN_WORKLOAD_H_
