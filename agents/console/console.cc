#include "agents/console/console.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "agents/outgoing_message.h"
#include "common/files.h"
#include "common/time.h"
#include "envelope/identity_uri.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"
#include "transparency/checkpoint.h"
#include "transparency/merkle.h"
#include "verification/audit_verifier.h"

namespace safeshare::console {
namespace {

namespace v1 = safeshare::v1;

constexpr char kSeenFile[] = "last-checkpoint.note";

}  // namespace

absl::StatusOr<std::unique_ptr<Console>> Console::Open(const ConsoleOptions& options) {
  auto identity = agents::LoadIdentity(options.identity_dir);
  if (!identity.ok()) return identity.status();
  auto uri = agents::PrincipalUriOfCertificate(identity->cert_pem);
  if (!uri.ok()) return uri.status();
  auto named = envelope::ParseIdentityUri(*uri);
  if (!named.ok()) return named.status();
  if (named->kind != envelope::IdentityUri::Kind::kOfficer) {
    return absl::InvalidArgumentError(
        absl::StrCat(*uri, " is not an IG officer's identity: the console is for officers"));
  }
  auto text = ReadFile(options.federation_file);
  if (!text.ok()) return absl::InvalidArgumentError(text.status().message());
  std::unique_ptr<Console> c(new Console());
  if (!google::protobuf::TextFormat::ParseFromString(*text, &c->federation_)) {
    return absl::InvalidArgumentError(
        absl::StrCat(options.federation_file, " is not a safeshare.v1.Federation"));
  }
  if (c->federation_.id() != named->federation_id) {
    return absl::InvalidArgumentError(
        absl::StrCat("the certificate names federation '", named->federation_id, "' but ",
                     options.federation_file, " is '", c->federation_.id(), "'"));
  }
  for (const auto& o : c->federation_.officers()) {
    if (o.agency_id() == named->agency_id && o.id() == named->officer_id) c->officer_ = o;
  }
  if (c->officer_.id().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "officer ", named->agency_id, "/", named->officer_id, " is not in the federation file"));
  }
  c->federation_file_ = std::filesystem::absolute(options.federation_file).string();
  c->state_dir_ = options.state_dir.empty() ? options.identity_dir + "/console" : options.state_dir;
  std::error_code ec;
  std::filesystem::create_directories(c->state_dir_, ec);
  if (ec || chmod(c->state_dir_.c_str(), 0700) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot use ", c->state_dir_, " for the console's state"));
  }
  c->client_ = agents::AgentClient::Connect(options.gateway, *identity);
  return c;
}

std::string Console::AgencyName(const std::string& id) const {
  for (const auto& a : federation_.agencies()) {
    if (a.id() == id) return a.display_name().empty() ? id : a.display_name();
  }
  return id;
}

std::string Console::AreaName(const std::string& id) const {
  for (const auto& a : federation_.areas()) {
    if (a.id() == id) return a.display_name().empty() ? id : a.display_name();
  }
  return id.empty() ? "(no area)" : id;
}

std::string Console::ScopeText() const {
  switch (officer_.scope()) {
    case v1::Officer::SCOPE_AGENCY:
      return absl::StrCat("flows to or from ", AgencyName(officer_.agency_id()));
    case v1::Officer::SCOPE_AREA: {
      std::string area;
      for (const auto& a : federation_.agencies()) {
        if (a.id() == officer_.agency_id()) area = a.area_id();
      }
      return absl::StrCat("flows to or from agencies in ", AreaName(area));
    }
    case v1::Officer::SCOPE_FEDERATION:
      return absl::StrCat("every flow in ", federation_.display_name());
    default:
      return "none";
  }
}

Integrity Console::CheckIntegrity() {
  Integrity out;
  out.checked_time = absl::Now();
  auto fail = [&](std::string problem) {
    out.ok = false;
    out.problem = std::move(problem);
    absl::MutexLock lock(&mu_);
    last_ = out;
    return out;
  };
  auto cp = client_->GetCheckpoint();
  if (!cp.ok()) {
    return fail(absl::StrCat("The gateway did not give a checkpoint: ", cp.status().message()));
  }
  const auto& log = federation_.audit_log();
  auto opened = transparency::VerifyCheckpoint(cp->signed_note(), log.origin(), log.public_key(),
                                               log.origin());
  if (!opened.ok()) {
    return fail(absl::StrCat("The latest checkpoint is not signed by the federation's audit key: ",
                             opened.status().message()));
  }
  out.tree_size = opened->size;
  out.root_hex = absl::BytesToHexString(opened->root_hash);
  // The last checkpoint this officer saw, verified again (the file is local,
  // but a console should not trust what it cannot check).
  const std::string seen_path = state_dir_ + "/" + kSeenFile;
  if (std::filesystem::exists(seen_path)) {
    auto seen_note = ReadFile(seen_path);
    auto seen = seen_note.ok() ? transparency::VerifyCheckpoint(*seen_note, log.origin(),
                                                                log.public_key(), log.origin())
                               : absl::StatusOr<transparency::Checkpoint>(seen_note.status());
    if (!seen.ok()) {
      return fail(absl::StrCat("The checkpoint this console saw last (", seen_path,
                               ") does not verify: ", seen.status().message()));
    }
    out.previous_size = seen->size;
    if (opened->size < seen->size) {
      return fail(absl::StrCat("The log has shrunk: this console saw ", seen->size,
                               " records, the gateway now shows ", opened->size,
                               ". Records have been removed or a different log is being shown."));
    }
    std::vector<std::string> proof;
    if (opened->size > seen->size && seen->size > 0) {
      auto p = client_->ConsistencyProof(seen->size, opened->size);
      if (!p.ok()) {
        return fail(absl::StrCat("The gateway gave no consistency proof from ", seen->size, " to ",
                                 opened->size, ": ", p.status().message()));
      }
      proof.assign(p->proof().hashes().begin(), p->proof().hashes().end());
    }
    if (seen->size > 0) {
      auto st = transparency::VerifyConsistency(seen->size, opened->size, seen->root_hash,
                                                opened->root_hash, proof);
      if (!st.ok()) {
        return fail(absl::StrCat("The log of ", opened->size,
                                 " records is not an extension of the one this console saw (",
                                 seen->size, " records): earlier records have been changed (",
                                 st.message(), ")"));
      }
      out.consistency_checked = true;
    }
  }
  if (auto st = WriteFileAtomically(seen_path, cp->signed_note(), 0600); !st.ok()) {
    return fail(absl::StrCat("Cannot remember the checkpoint: ", st.message()));
  }
  out.ok = true;
  absl::MutexLock lock(&mu_);
  last_ = out;
  return out;
}

Integrity Console::LastIntegrity() const {
  absl::MutexLock lock(&mu_);
  return last_;
}

absl::StatusOr<VerifiedRecords> Console::Read(const v1::AuditQuery& query) {
  std::string data;
  auto st = client_->ExportRecords(query, v1::EXPORT_FORMAT_JSON_LINES, [&](const std::string& c) {
    data += c;
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
  VerifiedRecords out;
  std::istringstream in(data);
  auto v = verification::VerifyAuditExport(in, "the gateway's export", federation_.audit_log());
  out.verified = v.ok();
  if (v.ok()) {
    out.tree_size = v->tree_size;
  } else {
    out.problem = std::string(v.status().message());
  }
  for (absl::string_view line : absl::StrSplit(data, '\n', absl::SkipEmpty())) {
    v1::AuditExportLine l;
    if (!google::protobuf::util::JsonStringToMessage(std::string(line), &l).ok()) {
      out.verified = false;
      out.problem = "a line of the export does not parse";
      continue;
    }
    if (!l.has_record()) continue;  // the checkpoint line
    out.records.push_back({l.index(), std::move(*l.mutable_record())});
  }
  return out;
}

absl::Status Console::Export(const v1::AuditQuery& query, v1::ExportFormat format,
                             const std::function<absl::Status(const std::string&)>& sink) {
  return client_->ExportRecords(query, format, sink);
}

absl::StatusOr<v1::FlowReportResponse> Console::FlowReport(absl::Time start, absl::Time end) {
  v1::FlowReportRequest req;
  *req.mutable_start_time() = ToTimestamp(start);
  *req.mutable_end_time() = ToTimestamp(end);
  return client_->FlowReport(req);
}

void SortHeld(std::vector<v1::HeldMessage>* held, absl::Time now) {
  auto rank = [now](const v1::HeldMessage& h) {
    if (h.has_escalated_time()) return 0;
    if (h.has_decide_by() && FromTimestamp(h.decide_by()) < now) return 1;
    return 2;
  };
  std::stable_sort(held->begin(), held->end(), [&](const auto& a, const auto& b) {
    if (rank(a) != rank(b)) return rank(a) < rank(b);
    return FromTimestamp(a.decide_by()) < FromTimestamp(b.decide_by());
  });
}

absl::StatusOr<std::vector<v1::HeldMessage>> Console::Held() {
  std::vector<v1::HeldMessage> out;
  std::string token;
  do {
    auto page = client_->ListHeld(token);
    if (!page.ok()) return page.status();
    for (auto& h : *page->mutable_messages()) out.push_back(std::move(h));
    token = page->next_page_token();
  } while (!token.empty());
  SortHeld(&out, absl::Now());
  return out;
}

absl::Status Console::Approve(const std::string& id, const std::string& reason) {
  return client_->Approve(id, reason);
}

absl::Status Console::Refuse(const std::string& id, const std::string& reason) {
  return client_->RefuseHeld(id, reason);
}

}  // namespace safeshare::console
