// safeshare_echo_server: the gRPC ceiling for the gateway benchmark. A unary
// echo on the callback API with the gateway's transport settings: TLS 1.3
// only (RestrictProcessToTls13), client certificates required and verified
// against the federation CA, the gateway's certificate, the same receive
// limit, the health and reflection services, and gRPC's default threads and
// resource quota (the gateway sets neither).
//
//   safeshare_echo_server --federation .safeshare-dev/federation --port_file echo.port

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <signal.h>

#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/files.h"
#include "common/log.h"
#include "echo.grpc.pb.h"
#include "gateway/config.h"
#include "gateway/tls13.h"

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

namespace {

using safeshare::LogEvent;

class EchoService final : public safeshare::bench::echo::v1::Echo::CallbackService {
 public:
  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* ctx,
                                 const safeshare::bench::echo::v1::EchoRequest* request,
                                 safeshare::bench::echo::v1::EchoResponse* response) override {
    response->set_payload(request->payload());
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

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

  EchoService echo;
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
           {{"listen", absl::GetFlag(FLAGS_listen)}, {"port", absl::StrCat(port)}});

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
