#ifndef SAFESHARE_GATEWAY_WITNESSING_WITNESS_LISTENER_H_
#define SAFESHARE_GATEWAY_WITNESSING_WITNESS_LISTENER_H_

// The gateway's HTTPS listener for its peers and monitors (docs/federation.md):
//   POST /add-checkpoint  C2SP tlog-witness: a followed log's new checkpoint,
//                         cosigned only if consistent with the last one this
//                         gateway cosigned for it (state in the store, so
//                         replicas sharing one database never cosign a fork)
//   GET  /checkpoint      this log's latest checkpoint with the cosignatures
//                         collected for it (the latest cosigned one, when
//                         witnesses are configured)
//   GET  /tile/<L>/<N>[.p/<W>], /tile/entries/<N>[.p/<W>]
//                         C2SP tlog-tiles: the log's hashes and its records
//                         as hashed (commitments in place of free text; a
//                         bundle holding a record from before erasable text
//                         is not served), for monitors
// TLS 1.3 with the gateway's certificate; no client certificate is asked
// for, because a checkpoint authenticates itself by the log's signature.

#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "envelope/keys.h"
#include "gateway/store/store.h"
#include "transparency/witness.h"

namespace httplib {
class SSLServer;
}

namespace safeshare::gateway {

// A parsed tlog-tiles path (after "/tile/"): level (-1 for an entry bundle),
// index and width (256 for a full tile). INVALID_ARGUMENT if not canonical.
struct TilePath {
  int level = 0;
  uint64_t index = 0;
  int width = 256;
};
absl::StatusOr<TilePath> ParseTilePath(absl::string_view path);

struct WitnessListenerOptions {
  std::string listen_address;  // host:port; port 0 picks one
  std::string cert_file, key_file;
  std::string witness_name;
  std::optional<envelope::PrivateKey> witness_key;  // set before Start
  std::vector<transparency::FollowedLog> logs;
  bool serve_cosigned_checkpoint = false;  // witnesses are asked to cosign ours
};

class WitnessListener {
 public:
  // Binds and starts serving. INVALID_ARGUMENT for a bad address or
  // certificate, UNAVAILABLE when the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<WitnessListener>> Start(WitnessListenerOptions options,
                                                                AuditLogStore* log,
                                                                WitnessStore* witness);
  ~WitnessListener();

  int port() const { return port_; }

  // The answer to one add-checkpoint body: HTTP status, content type and body.
  struct Answer {
    int status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::string body;
  };
  Answer AddCheckpoint(const std::string& request_body);
  // The answer to GET /tile/<path>: a tile or an entry bundle.
  Answer Tile(const std::string& path);

 private:
  WitnessListener() = default;

  WitnessListenerOptions options_;
  AuditLogStore* log_ = nullptr;
  WitnessStore* witness_ = nullptr;
  std::unique_ptr<httplib::SSLServer> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_WITNESSING_WITNESS_LISTENER_H_
