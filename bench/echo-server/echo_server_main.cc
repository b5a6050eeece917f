// safeshare_echo_server: the gRPC ceiling for the gateway benchmark. A unary
// echo on the callback API with the gateway's transport settings: TLS 1.3
// only (RestrictProcessToTls13), client certificates required and verified
// against the federation CA, the gateway's certificate, the same receive
// limit, the health and reflection services, and gRPC's default threads and
// resource quota (the gateway sets neither).
//
// With --verify it also does the one piece of per-message work the design
// mandates: it parses the SubmitRequest it received and verifies the
// envelope's Ed25519 signature with the sender's key, decoded once at start
// as the gateway's key directory does (envelope::SigningPublicKey), and
// refuses the call if it does not verify. Nothing else of the gateway's work.
//
//   safeshare_echo_server --federation .safeshare-dev/federation --port_file echo.port [--verify]

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "agents/keyring.h"
#include "common/files.h"
#include "common/log.h"
#include "echo.grpc.pb.h"
#include "envelope/keys.h"
#include "envelope/sealing.h"
#include "gateway/config.h"
#include "gateway/grpc_status.h"
#include "gateway/tls13.h"
#include "safeshare/v1/referrals.pb.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:0", "host:port to listen on (port 0: any)");
ABSL_FLAG(std::string, federation, "",
          "Development federation directory; its gateway/{ca,cert,key}.pem are used");
ABSL_FLAG(std::string, ca, "", "Federation CA certificate PEM (overrides --federation)");
ABSL_FLAG(std::string, cert, "", "Server certificate PEM (overrides --federation)");
ABSL_FLAG(std::string, key, "", "Server private key PEM (overrides --federation)");
ABSL_FLAG(uint64_t, max_message_bytes, safeshare::gateway::kDefaultMaxMessageBytes,
          "Largest envelope, as the gateway's setting (the receive limit adds 64 KiB)");
ABSL_FLAG(std::string, runtime_dir, "/tmp", "Directory for the TLS 1.3 OpenSSL configuration");
ABSL_FLAG(std::string, port_file, "", "Write the bound port here once serving");
ABSL_FLAG(bool, verify, false,
          "Also verify each request's envelope signature (the payload is a SubmitRequest) "
          "with the sending agency's key from the federation directory");

namespace {

using safeshare::LogEvent;
namespace envelope = safeshare::envelope;

// Signing public keys by key id; built before serving, then only read.
using SigningKeys = absl::flat_hash_map<std::string, envelope::SigningPublicKey>;

class EchoService final : public safeshare::bench::echo::v1::Echo::CallbackService {
 public:
  explicit EchoService(const SigningKeys* verify_with) : keys_(verify_with) {}

  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* ctx,
                                 const safeshare::bench::echo::v1::EchoRequest* request,
                                 safeshare::bench::echo::v1::EchoResponse* response) override {
    auto* reactor = ctx->DefaultReactor();
    if (keys_ != nullptr) {
      if (absl::Status st = Verify(request->payload()); !st.ok()) {
        reactor->Finish(safeshare::gateway::ToGrpcStatus(st));
        return reactor;
      }
    }
    response->set_payload(request->payload());
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

 private:
  absl::Status Verify(const std::string& payload) const {
    safeshare::v1::SubmitRequest submit;
    if (!submit.ParseFromString(payload)) {
      return absl::InvalidArgumentError("payload is not a SubmitRequest");
    }
    const auto& signed_envelope = submit.signed_envelope();
    auto key = keys_->find(signed_envelope.signing_key_id());
    if (key == keys_->end()) {
      return absl::UnauthenticatedError("signing key is not in the federation directory");
    }
    return envelope::VerifySignature(signed_envelope, key->second);
  }

  const SigningKeys* keys_;
};

// Every agency's newest signing key under <federation>/agencies/.
absl::StatusOr<SigningKeys> LoadSigningKeys(const std::string& federation) {
  SigningKeys keys;
  std::error_code ec;
  for (const auto& dir : std::filesystem::directory_iterator(federation + "/agencies", ec)) {
    auto ring = safeshare::agents::Keyring::Load(dir.path().string());
    if (!ring.ok()) return ring.status();
    auto newest = ring->Newest(envelope::PrivateKey::Type::kSigning);
    if (!newest.ok()) continue;
    auto pub = envelope::SigningPublicKey::FromRaw(newest->RawPublicKey());
    if (!pub.ok()) return pub.status();
    keys.emplace(newest->KeyId(), *std::move(pub));
  }
  if (ec) return absl::NotFoundError(absl::StrCat("cannot list ", federation, "/agencies"));
  if (keys.empty()) return absl::NotFoundError("no agency signing keys in the federation");
  return keys;
}

int Fail(const absl::Status& st) {
  LogEvent("error", "echo.start_failed",
           {{"code", absl::StatusCodeToString(st.code())}, {"detail", std::string(st.message())}});
  return 1;
}

std::string PathOr(const std::string& flag, const std::string& file) {
  if (!flag.empty()) return flag;
  return absl::StrCat(absl::GetFlag(FLAGS_federation), "/gateway/", file);
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("bare gRPC echo with the gateway's TLS and server settings");
  absl::ParseCommandLine(argc, argv);
  // As in the gateway: no run-time lock-order checks from Debian's Abseil.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  // As in the gateway: before the first TLS context.
  if (absl::Status st =
          safeshare::gateway::RestrictProcessToTls13(absl::GetFlag(FLAGS_runtime_dir));
      !st.ok()) {
    return Fail(st);
  }
  if (absl::GetFlag(FLAGS_federation).empty() &&
      (absl::GetFlag(FLAGS_ca).empty() || absl::GetFlag(FLAGS_cert).empty() ||
       absl::GetFlag(FLAGS_key).empty())) {
    return Fail(absl::InvalidArgumentError("give --federation, or --ca, --cert and --key"));
  }
  auto ca = safeshare::ReadFile(PathOr(absl::GetFlag(FLAGS_ca), "ca.pem"));
  if (!ca.ok()) return Fail(ca.status());
  auto cert = safeshare::ReadFile(PathOr(absl::GetFlag(FLAGS_cert), "cert.pem"));
  if (!cert.ok()) return Fail(cert.status());
  auto key = safeshare::ReadFile(PathOr(absl::GetFlag(FLAGS_key), "key.pem"));
  if (!key.ok()) return Fail(key.status());

  grpc::SslServerCredentialsOptions tls(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  tls.pem_root_certs = *ca;
  tls.pem_key_cert_pairs.push_back({*key, *cert});

  SigningKeys keys;
  if (absl::GetFlag(FLAGS_verify)) {
    if (absl::GetFlag(FLAGS_federation).empty()) {
      return Fail(absl::InvalidArgumentError("--verify needs --federation (the agencies' keys)"));
    }
    auto loaded = LoadSigningKeys(absl::GetFlag(FLAGS_federation));
    if (!loaded.ok()) return Fail(loaded.status());
    keys = *std::move(loaded);
  }
  EchoService echo(absl::GetFlag(FLAGS_verify) ? &keys : nullptr);
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(absl::GetFlag(FLAGS_listen), grpc::SslServerCredentials(tls), &port);
  builder.SetMaxReceiveMessageSize(
      static_cast<int>(absl::GetFlag(FLAGS_max_message_bytes) + 64 * 1024));
  builder.RegisterService(&echo);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    return Fail(absl::UnavailableError(
        absl::StrCat("cannot listen on ", absl::GetFlag(FLAGS_listen),
                     " (address in use, or certificate and key do not match)")));
  }
  server->GetHealthCheckService()->SetServingStatus(true);
  LogEvent("info", "echo.started",
           {{"listen", absl::GetFlag(FLAGS_listen)},
            {"port", absl::StrCat(port)},
            {"verify", absl::GetFlag(FLAGS_verify) ? absl::StrCat(keys.size(), " keys") : "no"}});

  if (const std::string port_file = absl::GetFlag(FLAGS_port_file); !port_file.empty()) {
    const std::string tmp = port_file + ".tmp";
    if (FILE* f = std::fopen(tmp.c_str(), "w")) {
      std::fprintf(f, "%d\n", port);
      std::fclose(f);
      std::rename(tmp.c_str(), port_file.c_str());
    }
  }

  int sig = 0;
  sigwait(&stop_signals, &sig);
  server->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  server->Wait();
  LogEvent("info", "echo.stopped");
  return 0;
}
