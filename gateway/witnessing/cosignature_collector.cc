#include "gateway/witnessing/cosignature_collector.h"

#include <httplib.h>
#include <openssl/ssl.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/log.h"
#include "transparency/witness.h"

namespace safeshare::gateway {
namespace {

struct WitnessUrl {
  std::string host;
  int port = 443;
  std::string prefix;  // path before /add-checkpoint, no trailing slash
};

absl::StatusOr<WitnessUrl> ParseUrl(absl::string_view url) {
  if (!absl::ConsumePrefix(&url, "https://")) {
    return absl::InvalidArgumentError("a witness URL must start https://");
  }
  WitnessUrl out;
  const size_t slash = url.find('/');
  absl::string_view authority = url.substr(0, slash);
  if (slash != absl::string_view::npos) {
    out.prefix = std::string(absl::StripSuffix(url.substr(slash), "/"));
  }
  const size_t colon = authority.rfind(':');
  if (colon != absl::string_view::npos && authority.back() != ']') {
    if (!absl::SimpleAtoi(authority.substr(colon + 1), &out.port) || out.port <= 0 ||
        out.port > 65535) {
      return absl::InvalidArgumentError("a witness URL has a bad port");
    }
    authority = authority.substr(0, colon);
  }
  if (authority.empty()) return absl::InvalidArgumentError("a witness URL has no host");
  out.host = std::string(authority);
  return out;
}

int CountCosignatures(const std::string& note, const std::vector<transparency::Witness>& ws) {
  auto names = transparency::VerifiedCosigners(note, ws);
  return names.ok() ? static_cast<int>(names->size()) : 0;
}

}  // namespace

CosignatureCollector::CosignatureCollector(transparency::WitnessPolicy policy, std::string ca_file,
                                           AuditLogStore* log, WitnessStore* store)
    : policy_(std::move(policy)), ca_file_(std::move(ca_file)), log_(log), store_(store) {}

CosignatureCollector::~CosignatureCollector() {
  stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

void CosignatureCollector::Start(absl::Duration interval) {
  thread_ = std::thread([this, interval] {
    while (!stop_.WaitForNotificationWithTimeout(interval)) {
      if (auto n = CollectOnce(); !n.ok()) {
        LogEvent("warn", "witnessing.round_failed",
                 {{"detail", std::string(n.status().message())}});
      }
    }
  });
}

absl::StatusOr<int> CosignatureCollector::CollectOnce() {
  auto latest = log_->LatestCheckpoint();
  if (!latest.ok()) return latest.status();
  if (latest->tree_size == 0 || latest->checkpoint_note.empty()) return 0;
  const std::vector<transparency::Witness> witnesses = policy_.witnesses();
  // Start from what earlier rounds collected for this size, if anything.
  std::string note = latest->checkpoint_note;
  auto cosigned = store_->LatestCosignedCheckpoint();
  if (!cosigned.ok()) return cosigned.status();
  if (cosigned->has_value() && (*cosigned)->tree_size == latest->tree_size) {
    note = (*cosigned)->checkpoint_note;
  }
  const int before = CountCosignatures(note, witnesses);
  for (const auto& w : witnesses) {
    if (w.url.empty() || CountCosignatures(note, {w}) > 0) continue;
    auto line = Ask(w, *latest);
    if (!line.ok()) {
      LogEvent("warn", "witnessing.witness_failed",
               {{"witness", w.name},
                {"code", std::string(absl::StatusCodeToString(line.status().code()))},
                {"detail", std::string(line.status().message())}});
      continue;
    }
    // Kept only if it verifies: a witness cannot plant a bad line on our log.
    auto with = transparency::AddCosignature(note, *line);
    if (!with.ok()) continue;
    auto ok = transparency::VerifiedCosigners(*with, {w});
    if (!ok.ok() || ok->count(w.name) == 0) {
      LogEvent("warn", "witnessing.bad_cosignature", {{"witness", w.name}});
      continue;
    }
    note = *std::move(with);
  }
  auto cosigners = transparency::VerifiedCosigners(note, witnesses);
  const int count = cosigners.ok() ? static_cast<int>(cosigners->size()) : 0;
  if (count == before) return count;
  if (auto st = store_->StoreCosignedCheckpoint(latest->tree_size, note, count); !st.ok()) {
    return st;
  }
  LogEvent("info", "witnessing.cosigned",
           {{"size", absl::StrCat(latest->tree_size)},
            {"cosignatures", absl::StrCat(count)},
            {"quorum", policy_.QuorumMet(*cosigners) ? "met" : "not met"}});
  return count;
}

absl::StatusOr<std::string> CosignatureCollector::Ask(const transparency::Witness& witness,
                                                      const CommitInfo& latest) {
  auto url = ParseUrl(witness.url);
  if (!url.ok()) return url.status();
  httplib::SSLClient client(url->host, url->port);
  client.set_ca_cert_path(ca_file_);
  client.enable_server_certificate_verification(true);
  SSL_CTX_set_min_proto_version(client.ssl_context(), TLS1_3_VERSION);
  client.set_connection_timeout(5);
  client.set_read_timeout(10);
  client.set_write_timeout(10);
  // Twice at most: the second time from the size a 409 named.
  for (int attempt = 0; attempt < 2; ++attempt) {
    transparency::AddCheckpointRequest request;
    request.old_size = known_size_[witness.name];
    if (request.old_size > latest.tree_size) request.old_size = 0;
    request.checkpoint_note = latest.checkpoint_note;
    if (request.old_size > 0 && request.old_size < latest.tree_size) {
      auto proof = log_->ConsistencyProof(request.old_size, latest.tree_size);
      if (!proof.ok()) return proof.status();
      request.proof = *std::move(proof);
    }
    auto res = client.Post(absl::StrCat(url->prefix, "/add-checkpoint"),
                           transparency::FormatAddCheckpoint(request), "text/plain");
    if (!res) {
      return absl::UnavailableError(
          absl::StrCat("no answer from ", witness.url, " (", httplib::to_string(res.error()), ")"));
    }
    if (res->status == 200) {
      known_size_[witness.name] = latest.tree_size;
      return res->body;
    }
    uint64_t size = 0;
    if (res->status == 409 && absl::SimpleAtoi(absl::StripSuffix(res->body, "\n"), &size)) {
      known_size_[witness.name] = size;
      continue;
    }
    const std::string reason = res->body.substr(0, std::min<size_t>(res->body.find('\n'), 200));
    if (res->status == 422) {
      // The witness holds a checkpoint of ours this one is not consistent
      // with: evidence of a fork, for an operator to look at now.
      return absl::DataLossError(absl::StrCat(witness.url, " refused: ", reason));
    }
    return absl::FailedPreconditionError(
        absl::StrCat(witness.url, " answered ", res->status, ": ", reason));
  }
  return absl::AbortedError(absl::StrCat(witness.url, " kept naming another size"));
}

}  // namespace safeshare::gateway
