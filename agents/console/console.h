#ifndef SAFESHARE_AGENTS_CONSOLE_CONSOLE_H_
#define SAFESHARE_AGENTS_CONSOLE_CONSOLE_H_

// The IG console's link to the gateway: one officer's Audit and Advice calls
// under the officer's certificate, and what the console verifies itself
// before it shows a figure: the checkpoint against the federation's audit
// key, its consistency with the last one this officer saw (kept in the
// console's state directory), and every record it shows by its inclusion
// proof (a JSON-lines export, checked as `safeshare audit verify` checks it).

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "agents/agent_client.h"
#include "safeshare/v1/advice.pb.h"
#include "safeshare/v1/audit.pb.h"
#include "safeshare/v1/directory.pb.h"

namespace safeshare::console {

struct ConsoleOptions {
  std::string identity_dir;     // the officer's: ca.pem, cert.pem, key.pem
  std::string gateway;          // host:port
  std::string federation_file;  // names the trusted audit key, agencies, areas
  std::string state_dir;        // empty: <identity_dir>/console
};

// The log as this officer's console last checked it.
struct Integrity {
  bool ok = false;
  std::string problem;  // what failed, when !ok
  uint64_t tree_size = 0;
  std::string root_hex;
  // The checkpoint this officer had seen before (0: none yet) and whether
  // the new one was proved consistent with it.
  uint64_t previous_size = 0;
  bool consistency_checked = false;
  absl::Time checked_time;
};

struct ShownRecord {
  uint64_t index = 0;  // leaf index
  safeshare::v1::AuditRecord record;
};

// Records read through an export and verified by their inclusion proofs.
struct VerifiedRecords {
  std::vector<ShownRecord> records;
  bool verified = false;
  std::string problem;  // why not, when !verified
  uint64_t tree_size = 0;
};

class Console {
 public:
  static absl::StatusOr<std::unique_ptr<Console>> Open(const ConsoleOptions& options);

  const safeshare::v1::Federation& federation() const { return federation_; }
  const safeshare::v1::Officer& officer() const { return officer_; }
  const std::string& federation_file() const { return federation_file_; }
  std::string AgencyName(const std::string& agency_id) const;
  std::string AreaName(const std::string& area_id) const;
  // What the officer's scope covers, as a person reads it.
  std::string ScopeText() const;

  // Fetches the latest checkpoint and checks it; remembers it as seen only
  // when it verified (a failure keeps warning until it is resolved).
  Integrity CheckIntegrity();
  // The result of the last CheckIntegrity, without asking the gateway.
  Integrity LastIntegrity() const;

  // Every record in scope matching `query`, read as a JSON-lines export
  // (one audited read) and verified. UNAVAILABLE when the gateway is down.
  absl::StatusOr<VerifiedRecords> Read(const safeshare::v1::AuditQuery& query);
  // The export itself, streamed to `sink`.
  absl::Status Export(const safeshare::v1::AuditQuery& query, safeshare::v1::ExportFormat format,
                      const std::function<absl::Status(const std::string&)>& sink);
  absl::StatusOr<safeshare::v1::FlowReportResponse> FlowReport(absl::Time start, absl::Time end);

  // Held messages in scope: escalated first, then overdue, then by decide-by.
  absl::StatusOr<std::vector<safeshare::v1::HeldMessage>> Held();
  absl::Status Approve(const std::string& message_id, const std::string& reason);
  absl::Status Refuse(const std::string& message_id, const std::string& reason);

 private:
  Console() = default;

  std::string state_dir_;
  std::string federation_file_;
  safeshare::v1::Federation federation_;
  safeshare::v1::Officer officer_;
  std::unique_ptr<agents::AgentClient> client_;
  mutable absl::Mutex mu_;
  Integrity last_ ABSL_GUARDED_BY(mu_);
};

// Held messages ordered as the queue shows them (escalated, overdue at `now`,
// then the earliest decide-by first).
void SortHeld(std::vector<safeshare::v1::HeldMessage>* held, absl::Time now);

}  // namespace safeshare::console

#endif  // SAFESHARE_AGENTS_CONSOLE_CONSOLE_H_
