#ifndef SAFESHARE_GATEWAY_STORE_POSTGRES_CONNECTION_H_
#define SAFESHARE_GATEWAY_STORE_POSTGRES_CONNECTION_H_

// The libpq wrapper the PostgreSQL store's files share: sessions with their
// prepared statements, parameters, binary results, and errors as statuses.

#include <arpa/inet.h>
#include <libpq-fe.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace safeshare::gateway::pg {

// Advisory lock keys ("safeshare" in hex, more or less). Every write batch
// holds kWriteLock for its transaction: one writer at a time across replicas.
inline constexpr int64_t kWriteLock = 0x5afe5a4e0001;
inline constexpr int64_t kMigrationLock = 0x5afe5a4e0002;
inline constexpr const char* kMailChannel = "safeshare_mailbox";
inline constexpr const char* kKeysChannel = "safeshare_keys";

// One connection and the statements prepared on it (lost when it reconnects).
struct PgSession {
  PGconn* conn = nullptr;
  std::map<std::string, std::string> prepared;  // SQL -> statement name
  // Statements sent in pipeline mode whose results are not read yet: what
  // each one does, for its error.
  std::vector<std::string> queued;
};

// One query parameter: text, or binary for bytea.
struct Param {
  std::string value;
  bool null = false;
  bool binary = false;
};
inline Param P(std::string v) { return {std::move(v)}; }
inline Param P(const char* v) { return {v}; }
inline Param P(int64_t v) { return {absl::StrCat(v)}; }
inline Param P(uint64_t v) { return {absl::StrCat(v)}; }
inline Param P(int v) { return {absl::StrCat(v)}; }
inline Param Bytes(std::string v) { return {std::move(v), false, true}; }
inline Param Null() { return {"", true}; }
inline Param Micros(const std::optional<absl::Time>& t) {
  return t ? P(absl::ToUnixMicros(*t)) : Null();
}

// A result in binary format: integers in network order, text and bytea raw.
class Result {
 public:
  explicit Result(PGresult* r) : r_(r) {}
  Result(Result&& o) noexcept : r_(std::exchange(o.r_, nullptr)) {}
  Result& operator=(Result&&) = delete;
  ~Result() { PQclear(r_); }
  int rows() const { return PQntuples(r_); }

  class Row {
   public:
    Row(const PGresult* r, int i) : r_(r), i_(i) {}
    bool IsNull(int c) const { return PQgetisnull(r_, i_, c); }
    std::string Text(int c) const {
      return std::string(PQgetvalue(r_, i_, c), PQgetlength(r_, i_, c));
    }
    int64_t Int(int c) const {
      if (IsNull(c)) return 0;
      const char* p = PQgetvalue(r_, i_, c);
      switch (PQgetlength(r_, i_, c)) {
        case 8: {
          uint32_t hi, lo;
          std::memcpy(&hi, p, 4);
          std::memcpy(&lo, p + 4, 4);
          return static_cast<int64_t>((uint64_t{ntohl(hi)} << 32) | ntohl(lo));
        }
        case 4: {
          uint32_t v;
          std::memcpy(&v, p, 4);
          return static_cast<int32_t>(ntohl(v));
        }
        case 2: {
          uint16_t v;
          std::memcpy(&v, p, 2);
          return static_cast<int16_t>(ntohs(v));
        }
        default:
          return 0;
      }
    }

   private:
    const PGresult* r_;
    int i_;
  };
  Row row(int i) const { return Row(r_, i); }

 private:
  PGresult* r_;
};

// Conditions that pass (connection lost, disk full, shutdown, lock or
// serialization trouble) are UNAVAILABLE: safe to retry. Anything else is a
// defect, INTERNAL. The message never carries the connection string.
absl::Status PgError(PGconn* conn, const PGresult* r, absl::string_view what);

// A statement runs prepared: parsed and planned once per connection, which is
// most of the database's CPU for these small statements. Statements queued
// before it go in the same round trip; the first of their errors, if any, is
// returned instead of its result.
absl::StatusOr<Result> Run(PgSession& session, const std::string& sql,
                           const std::vector<Param>& params, absl::string_view what);

// A statement whose result is not needed, sent without waiting for it (libpq
// pipeline mode): a batch's writes cost no round trip each. Its error, if
// any, comes back from the next Run or Flush on the session, which runs in
// order after it.
absl::Status Queue(PgSession& session, const std::string& sql, const std::vector<Param>& params,
                   absl::string_view what);

// Waits for every queued statement (one round trip): the first error, if any.
// The session is out of pipeline mode afterwards, even on error.
absl::Status Flush(PgSession& session);

// Plain statements without parameters (several allowed, e.g. a migration).
absl::Status Script(PGconn* conn, const char* sql, absl::string_view what);

// A new connection; UNAVAILABLE if the database cannot be reached.
absl::StatusOr<PGconn*> Connect(const std::string& conninfo);

// A connection that is still open, reconnecting a broken one (after a
// database restart or failover). UNAVAILABLE if the database is down.
absl::Status Ready(PgSession& session);

}  // namespace safeshare::gateway::pg

#endif  // SAFESHARE_GATEWAY_STORE_POSTGRES_CONNECTION_H_
