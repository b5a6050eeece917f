#include "transparency/witness.h"

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "transparency/cosignature.h"
#include "transparency/merkle.h"

namespace safeshare::transparency {
namespace {

constexpr size_t kMaxProofLines = 63;

bool CanonicalDecimal(absl::string_view s, uint64_t& out) {
  if (s.empty() || (s.size() > 1 && s[0] == '0')) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return absl::SimpleAtoi(s, &out);
}

}  // namespace

absl::StatusOr<AddCheckpointRequest> ParseAddCheckpoint(absl::string_view body) {
  AddCheckpointRequest r;
  const size_t blank = body.find("\n\n");
  if (blank == absl::string_view::npos) {
    return absl::InvalidArgumentError("add-checkpoint: no blank line before the checkpoint");
  }
  const std::vector<absl::string_view> lines = absl::StrSplit(body.substr(0, blank), '\n');
  absl::string_view old = lines[0];
  if (!absl::ConsumePrefix(&old, "old ") || !CanonicalDecimal(old, r.old_size)) {
    return absl::InvalidArgumentError(
        "add-checkpoint: the first line must be \"old <size>\" (decimal, no leading zeros)");
  }
  if (lines.size() - 1 > kMaxProofLines) {
    return absl::InvalidArgumentError("add-checkpoint: more than 63 consistency proof lines");
  }
  for (size_t i = 1; i < lines.size(); ++i) {
    std::string hash;
    if (!absl::Base64Unescape(lines[i], &hash) || absl::Base64Escape(hash) != lines[i] ||
        hash.size() != 32) {
      return absl::InvalidArgumentError(
          absl::StrCat("add-checkpoint: proof line ", i, " is not a base64 32-byte hash"));
    }
    r.proof.push_back(std::move(hash));
  }
  r.checkpoint_note = std::string(body.substr(blank + 2));
  return r;
}

std::string FormatAddCheckpoint(const AddCheckpointRequest& request) {
  std::string out = absl::StrCat("old ", request.old_size, "\n");
  for (const auto& hash : request.proof) absl::StrAppend(&out, absl::Base64Escape(hash), "\n");
  return absl::StrCat(out, "\n", request.checkpoint_note);
}

absl::StatusOr<std::string> AddCheckpoint(const AddCheckpointRequest& request,
                                          const std::vector<FollowedLog>& logs,
                                          CosignedState& state, absl::string_view witness_name,
                                          EVP_PKEY* witness_key, absl::Time now) {
  auto note = ParseNote(request.checkpoint_note);
  if (!note.ok()) return absl::InvalidArgumentError(note.status().message());
  auto body = ParseCheckpointBody(note->text);
  if (!body.ok()) return absl::InvalidArgumentError(body.status().message());
  const FollowedLog* log = nullptr;
  for (const auto& l : logs) {
    if (l.origin == body->origin) log = &l;
  }
  if (log == nullptr) {
    return absl::NotFoundError(absl::StrCat("this witness does not follow ", body->origin));
  }
  if (auto opened = OpenNote(request.checkpoint_note, log->key_name, log->public_key);
      !opened.ok()) {
    return absl::PermissionDeniedError(opened.status().message());
  }
  if (request.old_size > body->size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "old size ", request.old_size, " is larger than the checkpoint's ", body->size));
  }
  if (request.old_size != state.size) {
    return absl::FailedPreconditionError(absl::StrCat(
        "old size ", request.old_size, " is not the latest cosigned size ", state.size));
  }
  if (body->size == 0 && body->root_hash != EmptyRootHash()) {
    return absl::DataLossError("a checkpoint of size 0 must have the empty tree's root");
  }
  if (request.old_size == 0 && !request.proof.empty()) {
    return absl::DataLossError("from size 0 the consistency proof must be empty");
  }
  const absl::Status consistent = request.old_size == 0
                                      ? absl::OkStatus()
                                      : VerifyConsistency(state.size, body->size, state.root_hash,
                                                          body->root_hash, request.proof);
  if (!consistent.ok()) {
    return absl::DataLossError(
        absl::StrCat("not consistent with the checkpoint this witness cosigned at size ",
                     state.size, ": ", consistent.message()));
  }
  auto line = Cosign(request.checkpoint_note, witness_name, witness_key, now);
  if (!line.ok()) return line.status();
  state.size = body->size;
  state.root_hash = body->root_hash;
  return line;
}

int HttpStatusFor(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kInvalidArgument:
      return 400;
    case absl::StatusCode::kFailedPrecondition:
      return 409;
    case absl::StatusCode::kDataLoss:
      return 422;
    default:
      return 500;
  }
}

std::string ConflictBody(const CosignedState& state) { return absl::StrCat(state.size, "\n"); }

}  // namespace safeshare::transparency
