#include "gateway/witnessing/witness_listener.h"

#include <httplib.h>
#include <openssl/ssl.h>

#include <chrono>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/host_port.h"
#include "common/log.h"
#include "gateway/store/audit_text.h"
#include "transparency/checkpoint.h"

namespace safeshare::gateway {
namespace {

// An add-checkpoint body is a size line, at most 63 proof lines and a note
// with a few signature lines: 16 KiB is ample.
constexpr size_t kMaxRequestBytes = 16 * 1024;

bool CanonicalNumber(absl::string_view s, uint64_t max, uint64_t& out) {
  if (s.empty() || s.size() > 20 || (s.size() > 1 && s[0] == '0') ||
      !absl::c_all_of(s, absl::ascii_isdigit) || !absl::SimpleAtoi(s, &out)) {
    return false;
  }
  return out <= max;
}

// The tree's hashes are stored per power of two; a tile level is 8 of them.
constexpr int kTileHeight = 8;
constexpr uint64_t kTileWidth = 256;

}  // namespace

absl::StatusOr<TilePath> ParseTilePath(absl::string_view path) {
  const auto bad = absl::InvalidArgumentError("not a tlog-tiles path");
  std::vector<absl::string_view> parts = absl::StrSplit(path, '/');
  if (parts.size() < 2) return bad;
  TilePath out;
  uint64_t n = 0;
  if (parts[0] == "entries") {
    out.level = -1;
  } else if (CanonicalNumber(parts[0], 63, n)) {
    out.level = static_cast<int>(n);
  } else {
    return bad;
  }
  parts.erase(parts.begin());
  // A partial tile: "<last N element>.p/<W>".
  if (parts.size() >= 2 && absl::EndsWith(parts[parts.size() - 2], ".p")) {
    uint64_t w = 0;
    if (!CanonicalNumber(parts.back(), 255, w) || w == 0) return bad;
    out.width = static_cast<int>(w);
    parts.pop_back();
    parts.back().remove_suffix(2);
  }
  for (size_t i = 0; i < parts.size(); ++i) {
    absl::string_view e = parts[i];
    const bool last = i + 1 == parts.size();
    if (!last && !absl::ConsumePrefix(&e, "x")) return bad;
    if (e.size() != 3 || !absl::c_all_of(e, absl::ascii_isdigit)) return bad;
    if (out.index > (~uint64_t{0} - 999) / 1000) return bad;
    out.index = out.index * 1000 + static_cast<uint64_t>(std::stoi(std::string(e)));
  }
  return out;
}

absl::StatusOr<std::unique_ptr<WitnessListener>> WitnessListener::Start(
    WitnessListenerOptions options, AuditLogStore* log, WitnessStore* witness) {
  auto address = SplitHostPort(options.listen_address);
  if (!address.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("witnessing listen_address: ", address.status().message()));
  }
  if (!options.witness_key) return absl::InvalidArgumentError("witnessing needs a witness key");
  std::unique_ptr<WitnessListener> l(new WitnessListener());
  l->options_ = std::move(options);
  l->log_ = log;
  l->witness_ = witness;
  const std::string cert = l->options_.cert_file, key = l->options_.key_file;
  l->server_ = std::make_unique<httplib::SSLServer>([cert, key](SSL_CTX& ctx) {
    return SSL_CTX_set_min_proto_version(&ctx, TLS1_3_VERSION) == 1 &&
           SSL_CTX_use_certificate_chain_file(&ctx, cert.c_str()) == 1 &&
           SSL_CTX_use_PrivateKey_file(&ctx, key.c_str(), SSL_FILETYPE_PEM) == 1 &&
           SSL_CTX_check_private_key(&ctx) == 1;
  });
  if (!l->server_->is_valid()) {
    return absl::InvalidArgumentError(
        absl::StrCat("witnessing listener: cannot use certificate ", cert, " with key ", key));
  }
  l->server_->set_payload_max_length(kMaxRequestBytes);
  l->server_->set_read_timeout(10, 0);
  l->server_->set_write_timeout(10, 0);
  WitnessListener* self = l.get();
  l->server_->Post("/add-checkpoint", [self](const httplib::Request& req, httplib::Response& res) {
    Answer a = self->AddCheckpoint(req.body);
    res.status = a.status;
    res.set_content(a.body, a.content_type.c_str());
  });
  l->server_->Get("/checkpoint", [self](const httplib::Request&, httplib::Response& res) {
    absl::StatusOr<CommitInfo> latest = absl::NotFoundError("");
    if (self->options_.serve_cosigned_checkpoint) {
      auto cosigned = self->witness_->LatestCosignedCheckpoint();
      if (!cosigned.ok()) {
        latest = cosigned.status();
      } else if (cosigned->has_value()) {
        latest = **cosigned;
      }
    }
    if (absl::IsNotFound(latest.status())) latest = self->log_->LatestCheckpoint();
    if (!latest.ok() || latest->checkpoint_note.empty()) {
      res.status = 503;
      res.set_content("no checkpoint is available yet\n", "text/plain; charset=utf-8");
      return;
    }
    res.set_header("Cache-Control", "no-cache");
    res.set_content(latest->checkpoint_note, "text/plain; charset=utf-8");
  });

  l->server_->Get(R"(/tile/(.+))", [self](const httplib::Request& req, httplib::Response& res) {
    Answer a = self->Tile(req.matches[1]);
    res.status = a.status;
    if (a.status == 200) res.set_header("Cache-Control", "public, max-age=31536000, immutable");
    res.set_content(a.body, a.content_type.c_str());
  });

  int bound = address->second;
  if (bound == 0) {
    bound = l->server_->bind_to_any_port(address->first);
  } else if (!l->server_->bind_to_port(address->first, bound)) {
    bound = -1;
  }
  if (bound <= 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", l->options_.listen_address, " for witnessing"));
  }
  l->port_ = bound;
  l->thread_ = std::thread([self] { self->server_->listen_after_bind(); });
  for (int i = 0; i < 5000 && !l->server_->is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return l;
}

WitnessListener::~WitnessListener() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

WitnessListener::Answer WitnessListener::AddCheckpoint(const std::string& request_body) {
  Answer a;
  auto fail = [&](const absl::Status& st) {
    a.status = transparency::HttpStatusFor(st);
    a.body = absl::StrCat(st.message(), "\n");
    return a;
  };
  auto request = transparency::ParseAddCheckpoint(request_body);
  if (!request.ok()) return fail(request.status());
  auto note = transparency::ParseNote(request->checkpoint_note);
  if (!note.ok()) return fail(absl::InvalidArgumentError(note.status().message()));
  const std::string origin = note->text.substr(0, note->text.find('\n'));
  // Refuse an unknown origin before touching the store.
  bool followed = false;
  for (const auto& log : options_.logs) followed |= log.origin == origin;
  if (!followed) {
    return fail(absl::NotFoundError(absl::StrCat("this witness does not follow ", origin)));
  }
  auto stored = witness_->GetWitnessedLog(origin);
  if (!stored.ok()) return fail(absl::InternalError("the witness state cannot be read"));
  transparency::CosignedState state{stored->tree_size, stored->root_hash};
  auto line = transparency::AddCheckpoint(*request, options_.logs, state, options_.witness_name,
                                          options_.witness_key->get(), absl::Now());
  if (!line.ok()) {
    LogEvent("warn", "witness.refused",
             {{"origin", origin},
              {"code", std::string(absl::StatusCodeToString(line.status().code()))},
              {"old_size", absl::StrCat(request->old_size)},
              {"cosigned_size", absl::StrCat(state.size)}});
    if (line.status().code() == absl::StatusCode::kFailedPrecondition) {
      a.status = 409;
      a.content_type = "text/x.tlog.size";
      a.body = transparency::ConflictBody(state);
      return a;
    }
    return fail(line.status());
  }
  // Only a cosignature whose state is durably recorded may leave: otherwise
  // a restart could cosign a fork of what was just cosigned.
  if (auto st = witness_->UpdateWitnessedLog(origin, *stored, {state.size, state.root_hash});
      !st.ok()) {
    if (absl::IsAborted(st)) {
      auto now = witness_->GetWitnessedLog(origin);
      a.status = 409;
      a.content_type = "text/x.tlog.size";
      a.body = absl::StrCat(now.ok() ? now->tree_size : stored->tree_size, "\n");
      return a;
    }
    return fail(absl::InternalError("the witness state cannot be stored"));
  }
  LogEvent("info", "witness.cosigned", {{"origin", origin}, {"size", absl::StrCat(state.size)}});
  a.body = *line;
  return a;
}

WitnessListener::Answer WitnessListener::Tile(const std::string& path) {
  Answer a;
  auto fail = [&](int status, absl::string_view why) {
    a.status = status;
    a.body = absl::StrCat(why, "\n");
    return a;
  };
  auto tile = ParseTilePath(path);
  if (!tile.ok()) return fail(404, tile.status().message());
  a.content_type = "application/octet-stream";
  const uint64_t first = tile->index * kTileWidth;
  const uint64_t count = static_cast<uint64_t>(tile->width);
  if (tile->level >= 0) {
    const uint64_t height = static_cast<uint64_t>(tile->level) * kTileHeight;
    if (height >= 56 || first > (uint64_t{1} << (56 - height))) return fail(404, "no such tile");
    auto hashes = log_->CompleteSubtrees(height, first, count);
    if (!hashes.ok()) {
      return fail(absl::IsOutOfRange(hashes.status()) ? 404 : 503,
                  absl::IsOutOfRange(hashes.status()) ? "the log is not that large yet"
                                                      : "the log cannot be read now");
    }
    for (const auto& h : *hashes) a.body += h;
    return a;
  }
  std::vector<AuditLeaf> leaves;
  auto st = log_->ScanAudit({}, first, count, [&](const AuditLeaf& leaf) {
    leaves.push_back(leaf);
    return true;
  });
  if (!st.ok()) return fail(503, "the log cannot be read now");
  if (leaves.size() != count) return fail(404, "the log is not that large yet");
  for (const auto& leaf : leaves) {
    safeshare::v1::AuditRecord record;
    if (!record.ParseFromString(leaf.record)) return fail(503, "the log cannot be read now");
    // Records from before erasable text hold their free text in place.
    for (const auto& field : audit_text::CommittedFields()) {
      if (!audit_text::Get(record, field).empty()) {
        return fail(403, "this bundle holds records from before erasable text; not published");
      }
    }
    if (leaf.record.size() > 0xffff) return fail(500, "a record is too large for a bundle");
    a.body.push_back(static_cast<char>(leaf.record.size() >> 8));
    a.body.push_back(static_cast<char>(leaf.record.size() & 0xff));
    a.body += leaf.record;
  }
  return a;
}

}  // namespace safeshare::gateway
