// PostgresStore's witnessing tables: cosigned checkpoints and the logs this
// gateway witnesses. Writes take the write connection between batches; each
// is one statement, so it needs no transaction of its own.
#include "gateway/store/postgres/postgres_store.h"
#include "gateway/store/store_rows.h"

namespace safeshare::gateway {

using pg::Bytes;
using pg::P;
using pg::Run;
using store_rows::ToMicros;

absl::Status PostgresStore::StoreCosignedCheckpoint(uint64_t tree_size, const std::string& note,
                                                    int cosignatures) {
  absl::MutexLock lock(&mu_);
  if (auto st = pg::Ready(write_); !st.ok()) return st;
  auto r =
      Run(write_,
          "INSERT INTO cosigned_checkpoints (tree_size, note, cosignatures, time_us) "
          "SELECT tree_size, $1, $2, $3 FROM audit_checkpoints WHERE tree_size = $4 "
          "ON CONFLICT (tree_size) DO UPDATE SET note = excluded.note, "
          "cosignatures = excluded.cosignatures, time_us = excluded.time_us "
          "RETURNING tree_size",
          {P(note), P(cosignatures), P(ToMicros(absl::Now())), P(tree_size)}, "store cosignatures");
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return absl::NotFoundError("no checkpoint of that size is stored");
  return absl::OkStatus();
}

absl::StatusOr<std::optional<CommitInfo>> PostgresStore::LatestCosignedCheckpoint() {
  absl::MutexLock lock(&read_mu_);
  if (auto st = pg::Ready(read_); !st.ok()) return st;
  auto r = Run(read_,
               "SELECT c.tree_size, a.root_hash, c.note FROM cosigned_checkpoints c "
               "JOIN audit_checkpoints a USING (tree_size) ORDER BY c.tree_size DESC LIMIT 1",
               {}, "read cosigned checkpoint");
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return std::optional<CommitInfo>();
  CommitInfo info;
  info.tree_size = static_cast<uint64_t>(r->row(0).Int(0));
  info.root_hash = r->row(0).Text(1);
  info.checkpoint_note = r->row(0).Text(2);
  return std::optional<CommitInfo>(std::move(info));
}

absl::StatusOr<WitnessedLog> PostgresStore::GetWitnessedLog(const std::string& origin) {
  absl::MutexLock lock(&read_mu_);
  if (auto st = pg::Ready(read_); !st.ok()) return st;
  auto r = Run(read_, "SELECT tree_size, root_hash FROM witnessed_logs WHERE origin = $1",
               {P(origin)}, "read witnessed log");
  if (!r.ok()) return r.status();
  WitnessedLog out;
  if (r->rows() == 0) return out;
  out.tree_size = static_cast<uint64_t>(r->row(0).Int(0));
  out.root_hash = r->row(0).Text(1);
  return out;
}

absl::Status PostgresStore::UpdateWitnessedLog(const std::string& origin,
                                               const WitnessedLog& before,
                                               const WitnessedLog& after) {
  absl::MutexLock lock(&mu_);
  if (auto st = pg::Ready(write_); !st.ok()) return st;
  // Compare and set across replicas: the row must still say `before`.
  absl::StatusOr<pg::Result> r =
      before.root_hash.empty()
          ? Run(write_,
                "INSERT INTO witnessed_logs (tree_size, root_hash, time_us, origin) "
                "VALUES ($1, $2, $3, $4) ON CONFLICT (origin) DO NOTHING RETURNING origin",
                {P(after.tree_size), Bytes(after.root_hash), P(ToMicros(absl::Now())), P(origin)},
                "store witnessed log")
          : Run(write_,
                "UPDATE witnessed_logs SET tree_size = $1, root_hash = $2, time_us = $3 "
                "WHERE origin = $4 AND tree_size = $5 AND root_hash = $6 RETURNING origin",
                {P(after.tree_size), Bytes(after.root_hash), P(ToMicros(absl::Now())), P(origin),
                 P(before.tree_size), Bytes(before.root_hash)},
                "store witnessed log");
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return absl::AbortedError("the witnessed state changed meanwhile; retry");
  return absl::OkStatus();
}

}  // namespace safeshare::gateway
