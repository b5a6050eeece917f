#ifndef SAFESHARE_AGENTS_KEY_LOG_H_
#define SAFESHARE_AGENTS_KEY_LOG_H_

// What an agent checks before it trusts a key the directory serves (key
// transparency; docs/envelope-format.md, "Directory keys"): every key event
// of the agency is in the audit log under a checkpoint signed by the
// federation's audit key, the events form one chain, every publish and
// revocation is signed by the key that was then the agency's current signing
// key, and replaying the events gives exactly the keys served. It remembers
// the last checkpoint it verified and the events it has seen per agency
// (<identity>/key-log.textproto), and refuses a later answer that does not
// extend them.

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "envelope/key_history.h"
#include "safeshare/v1/audit.pb.h"
#include "safeshare/v1/directory.pb.h"
#include "transparency/checkpoint.h"

namespace safeshare::agents {

// The federation's audit log verifier key, C2SP form (name+hash+key), one
// line in <identity>/audit-log.pub.
inline constexpr char kAuditLogKeyFile[] = "audit-log.pub";
inline constexpr char kKeyLogMemoryFile[] = "key-log.textproto";
// Under it, peers/<federation>/ holds a peer federation's audit-log.pub and
// the agent's memory of that log.
inline constexpr char kPeerLogsDir[] = "peers";

using envelope::CheckServedKeys;
using envelope::KeyEventView;
using envelope::VerifiedKeys;
using envelope::VerifyKeyHistory;

class KeyLog {
 public:
  // Reads <identity_dir>/audit-log.pub and the memory file, if any.
  // FAILED_PRECONDITION when the verifier key is missing or malformed.
  static absl::StatusOr<KeyLog> Open(const std::string& identity_dir,
                                     const std::string& federation_id);

  // The tree size of the last checkpoint verified (0: none yet); sent with
  // GetAgency so the answer carries a consistency proof from it.
  uint64_t known_tree_size() const { return memory_.tree_size(); }

  // Verifies a GetAgency answer for `agency_id`: the checkpoint, its
  // consistency with the remembered one, the key history, and the served
  // keys; remembers the new checkpoint and events (written to the memory
  // file). Returns the agency with its verified keys and events.
  absl::StatusOr<VerifiedKeys> Verify(const std::string& agency_id,
                                      const safeshare::v1::GetAgencyResponse& response);

 private:
  KeyLog() = default;
  absl::Status Remember();

  std::string memory_path_;
  std::string federation_id_;
  transparency::NoteVerifierKey log_key_;
  safeshare::v1::KeyLogMemory memory_;
};

}  // namespace safeshare::agents

#endif  // SAFESHARE_AGENTS_KEY_LOG_H_
