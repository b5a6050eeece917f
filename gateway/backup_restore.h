#ifndef SAFESHARE_GATEWAY_BACKUP_RESTORE_H_
#define SAFESHARE_GATEWAY_BACKUP_RESTORE_H_

// `safeshare-gateway backup` and `restore` for the embedded SQLite store. A
// backup is taken online, while the gateway runs, and its audit log is
// verified against the federation's key before it is called good; a restore
// verifies the copy it is about to put in place the same way, so a gateway
// never starts on a store whose log does not verify. PostgreSQL stores are
// backed up with PostgreSQL's own tools (docs/operator-guide.md).

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "safeshare/v1/gateway_config.pb.h"

namespace safeshare::gateway {

// Writes a consistent copy of the configured store to `out` and verifies it.
// Returns what the backup holds, for the operator.
absl::StatusOr<std::string> BackUpStore(const safeshare::v1::GatewayConfig& config,
                                        const std::string& out);

// Verifies the backup `from` and puts a copy of it where the configured store
// is. An existing store is moved aside (never deleted) only with `replace`,
// and only when no gateway has it open. Returns what was restored.
absl::StatusOr<std::string> RestoreStore(const safeshare::v1::GatewayConfig& config,
                                         const std::string& from, bool replace, absl::Time now);

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_BACKUP_RESTORE_H_
