#include "gateway/audit/audit_service.h"

#include <map>
#include <set>
#include <tuple>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/enum_text.h"
#include "common/log.h"
#include "envelope/digest.h"
#include "gateway/audit/receipt_proofs.h"
#include "gateway/authentication.h"
#include "gateway/grpc_status.h"
#include "gateway/officer_scope.h"
#include "gateway/reply_budget.h"
#include "google/protobuf/util/json_util.h"

namespace safeshare::gateway {
namespace {

constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 1000;
constexpr size_t kExportChunkRecords = 500;

absl::Time FromTs(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

std::string Csv(absl::string_view raw) {
  // A leading = + - @ would run as a formula in a spreadsheet.
  std::string guarded = !raw.empty() && std::string("=+-@\t\r").find(raw[0]) != std::string::npos
                            ? absl::StrCat("'", raw)
                            : std::string(raw);
  absl::string_view v = guarded;
  if (v.find_first_of(",\"\n\r") == absl::string_view::npos) return std::string(v);
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

template <typename E, typename NameFn>
std::string EnumList(const google::protobuf::RepeatedField<int>& values, NameFn name) {
  std::vector<std::string> out;
  for (int v : values) out.push_back(name(static_cast<E>(v)));
  return absl::StrJoin(out, ";");
}

// Whether a serialized record's sender or recipient is in `scope` (empty:
// the whole federation), as ScanAudit filters.
bool RecordInScope(const std::vector<std::string>& scope, const std::string& record_bytes) {
  if (scope.empty()) return true;
  safeshare::v1::AuditRecord r;
  if (!r.ParseFromString(record_bytes)) return false;
  for (const std::string& agency : scope) {
    if (agency == r.sender_agency_id() || agency == r.recipient_agency_id()) return true;
  }
  return false;
}

std::string TimeText(const google::protobuf::Timestamp& t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", FromTs(t), absl::UTCTimeZone());
}

}  // namespace

const char kAuditCsvHeader[] =
    "sequence,time,event,message_id,kind,sender,sender_area,recipient,recipient_area,"
    "practitioner_id,practitioner_role,purpose,lawful_basis,special_category_condition,"
    "criminal_offence_condition,statutory_gateway,consent_status,informed,data_categories,"
    "necessity_justification,threshold_level,urgency,advice_status,advice_reference,decision,"
    "flagged_checks,rule_pack,rule_pack_version,isa_id,isa_version,payload_sha256,payload_size,"
    "subject_reference,actor,reason,status_code,state\n";

std::string AuditCsvRow(const safeshare::v1::AuditRecord& r) {
  namespace v1 = safeshare::v1;
  const auto& d = r.declaration();
  std::vector<std::string> flagged;
  for (const auto& f : r.decision().findings()) {
    if (f.outcome() == v1::FINDING_OUTCOME_FAIL || f.outcome() == v1::FINDING_OUTCOME_ADVICE) {
      flagged.push_back(absl::StrCat(f.check(), ":", EnumShortName(f.outcome())));
    }
  }
  std::vector<std::string> cols = {
      absl::StrCat(r.sequence()),
      TimeText(r.time()),
      v1::AuditEventType_Name(r.event()),
      r.message_id(),
      v1::MessageKind_Name(r.kind()),
      r.sender_agency_id(),
      r.sender_area_id(),
      r.recipient_agency_id(),
      r.recipient_area_id(),
      r.sender_practitioner().id(),
      v1::PractitionerRole_Name(r.sender_practitioner().role()),
      v1::Purpose_Name(d.purpose()),
      v1::LawfulBasis_Name(d.lawful_basis()),
      v1::SpecialCategoryCondition_Name(d.special_category_condition()),
      v1::CriminalOffenceCondition_Name(d.criminal_offence_condition()),
      v1::StatutoryGateway_Name(d.statutory_gateway()),
      v1::ConsentStatus_Name(d.consent_status()),
      d.informed() ? "true" : "false",
      EnumList<v1::DataCategory>(d.data_categories(),
                                 [](v1::DataCategory c) { return v1::DataCategory_Name(c); }),
      d.necessity_justification(),
      v1::ThresholdLevel_Name(d.threshold_level()),
      v1::Urgency_Name(d.urgency()),
      v1::AdviceStatus_Name(d.advice_status()),
      d.advice_reference(),
      v1::Decision_Name(r.decision().decision()),
      absl::StrJoin(flagged, ";"),
      r.decision().rule_pack(),
      r.decision().rule_pack_version(),
      r.decision().isa_id(),
      r.decision().isa_version(),
      envelope::ToHex(r.payload_sha256()),
      absl::StrCat(r.payload_size()),
      d.subject_reference(),
      r.actor(),
      r.reason(),
      r.status_code(),
      v1::MessageState_Name(r.state()),
  };
  std::string line;
  for (size_t i = 0; i < cols.size(); ++i) absl::StrAppend(&line, i ? "," : "", Csv(cols[i]));
  return line + "\n";
}

namespace {
std::string JsonLine(const safeshare::v1::AuditExportLine& line) {
  std::string json;
  google::protobuf::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(line, &json, opts);
  return json + "\n";
}
}  // namespace

std::string AuditJsonLine(const AuditLeaf& leaf, const safeshare::v1::AuditRecord& record,
                          const std::vector<std::string>* proof) {
  safeshare::v1::AuditExportLine line;
  line.set_index(leaf.index);
  line.set_leaf_hash(envelope::ToHex(leaf.leaf_hash));
  line.set_record_bytes(leaf.record);
  *line.mutable_record() = record;
  if (proof != nullptr) {
    for (const auto& h : *proof) line.add_inclusion_proof(envelope::ToHex(h));
  }
  return JsonLine(line);
}

std::string AuditJsonCheckpointLine(const CommitInfo& checkpoint) {
  safeshare::v1::AuditExportLine line;
  line.set_checkpoint_note(checkpoint.checkpoint_note);
  line.set_tree_size(checkpoint.tree_size);
  return JsonLine(line);
}

absl::StatusOr<Principal> AuditService::AuthenticateOfficer(
    const grpc::CallbackServerContext& ctx) const {
  auto caller = AuthenticateCaller(ctx, *directory_->Current());
  if (!caller.ok()) return caller.status();
  if (!caller->is_officer()) {
    return absl::PermissionDeniedError(
        "the audit log is for IG officer certificates "
        "(safeshare://<federation>/officer/<agency>/<id>)");
  }
  return caller;
}

absl::StatusOr<AuditFilter> AuditService::FilterFor(const Principal& officer,
                                                    const safeshare::v1::AuditQuery& q) const {
  AuditFilter f;
  auto scope = OfficerScope(officer, *directory_->Current());
  if (!scope.ok()) return scope.status();
  f.agencies = std::move(*scope);
  f.agency_id = q.agency_id();
  f.area_id = q.area_id();
  if (q.has_start_time()) f.start = FromTs(q.start_time());
  if (q.has_end_time()) f.end = FromTs(q.end_time());
  if (f.start && f.end && *f.start > *f.end) {
    return absl::InvalidArgumentError("query.start_time is after query.end_time");
  }
  f.kind = q.kind();
  f.purpose = q.purpose();
  f.decision = q.decision();
  f.failed_check = q.failed_check();
  f.subject_reference = q.subject_reference();
  return f;
}

grpc::ServerUnaryReactor* AuditService::GetCheckpoint(
    grpc::CallbackServerContext* ctx, const safeshare::v1::GetCheckpointRequest*,
    safeshare::v1::GetCheckpointResponse* response) {
  auto* reactor = ctx->DefaultReactor();
  absl::Status st = AuthenticateOfficer(*ctx).status();
  if (st.ok()) {
    auto latest = store_->LatestCheckpoint();
    st = latest.status();
    if (latest.ok()) *response->mutable_checkpoint() = CheckpointProto(*latest);
  }
  reactor->Finish(ToGrpcStatus(st));
  return reactor;
}

grpc::ServerUnaryReactor* AuditService::GetInclusionProof(
    grpc::CallbackServerContext* ctx, const safeshare::v1::GetInclusionProofRequest* request,
    safeshare::v1::GetInclusionProofResponse* response) {
  auto* reactor = ctx->DefaultReactor();
  auto officer = AuthenticateOfficer(*ctx);
  absl::Status st = officer.status();
  absl::StatusOr<std::vector<std::string>> scope = absl::InternalError("unset");
  if (st.ok()) {
    scope = OfficerScope(*officer, *directory_->Current());
    st = scope.status();
  }
  uint64_t size = request->tree_size();
  if (st.ok() && size == 0) {
    auto latest = store_->LatestCheckpoint();
    st = latest.status();
    if (latest.ok()) size = latest->tree_size;
  }
  if (st.ok()) {
    auto proof = store_->InclusionProof(request->leaf_index(), size);
    auto leaf = store_->GetAuditLeaf(request->leaf_index());
    st = !proof.ok() ? proof.status() : leaf.status();
    // A leaf hash outside the officer's scope is no more its business than
    // the record: absent and out of scope give the same answer.
    if (st.code() == absl::StatusCode::kNotFound ||
        (st.ok() && !RecordInScope(*scope, leaf->record))) {
      st = absl::NotFoundError(
          absl::StrCat("no audit record ", request->leaf_index(), " in this officer's scope"));
    }
    if (st.ok()) {
      response->mutable_proof()->set_leaf_index(request->leaf_index());
      response->mutable_proof()->set_tree_size(size);
      for (auto& h : *proof) response->mutable_proof()->add_hashes(std::move(h));
      response->set_leaf_hash(leaf->leaf_hash);
    }
  }
  reactor->Finish(ToGrpcStatus(st));
  return reactor;
}

grpc::ServerUnaryReactor* AuditService::GetConsistencyProof(
    grpc::CallbackServerContext* ctx, const safeshare::v1::GetConsistencyProofRequest* request,
    safeshare::v1::GetConsistencyProofResponse* response) {
  auto* reactor = ctx->DefaultReactor();
  absl::Status st = AuthenticateOfficer(*ctx).status();
  if (st.ok()) {
    auto proof = store_->ConsistencyProof(request->first_tree_size(), request->second_tree_size());
    st = proof.status();
    if (proof.ok()) {
      response->mutable_proof()->set_first_tree_size(request->first_tree_size());
      response->mutable_proof()->set_second_tree_size(request->second_tree_size());
      for (auto& h : *proof) response->mutable_proof()->add_hashes(std::move(h));
    }
  }
  reactor->Finish(ToGrpcStatus(st));
  return reactor;
}

grpc::ServerUnaryReactor* AuditService::QueryRecords(
    grpc::CallbackServerContext* ctx, const safeshare::v1::QueryRecordsRequest* request,
    safeshare::v1::QueryRecordsResponse* response) {
  auto* reactor = ctx->DefaultReactor();
  auto officer = AuthenticateOfficer(*ctx);
  absl::Status st = officer.status();
  absl::StatusOr<AuditFilter> filter = absl::InternalError("unset");
  if (st.ok()) {
    filter = FilterFor(*officer, request->query());
    st = filter.status();
  }
  uint64_t start = 0;
  if (st.ok() && !request->page_token().empty() &&
      !absl::SimpleAtoi(request->page_token(), &start)) {
    st = absl::InvalidArgumentError("page_token is not one this gateway issued");
  }
  if (st.ok() && request->page_size() < 0) {
    st = absl::InvalidArgumentError("page_size must not be negative");
  }
  if (st.ok()) {
    const size_t limit =
        request->page_size() == 0 ? kDefaultPageSize : std::min(request->page_size(), kMaxPageSize);
    uint64_t last = 0;
    absl::Status parse;
    ReplyBudget budget(max_reply_bytes_);
    bool cut = false;
    st = store_->ScanAudit(*filter, start, limit, [&](const AuditLeaf& leaf) {
      if (!budget.Take(leaf.record.size())) {
        if (response->records_size() == 0) {
          parse = OverReplyLimit(absl::StrCat("audit record ", leaf.index), leaf.record.size(),
                                 budget.max_bytes());
        }
        cut = true;
        return false;
      }
      if (!response->add_records()->ParseFromString(leaf.record)) {
        parse = absl::DataLossError(absl::StrCat("audit record ", leaf.index, " does not parse"));
        return false;
      }
      last = leaf.index;
      return true;
    });
    if (st.ok()) st = parse;
    if (st.ok() && (cut || static_cast<size_t>(response->records_size()) == limit)) {
      response->set_next_page_token(absl::StrCat(last + 1));
    }
    if (!st.ok()) response->Clear();
    if (st.ok()) {
      LogEvent("info", "audit.query",
               {{"officer", officer->uri}, {"count", absl::StrCat(response->records_size())}});
    }
  }
  reactor->Finish(ToGrpcStatus(st));
  return reactor;
}

namespace {

// Streams matching records a chunk at a time: the next chunk is read only
// after the previous one was written, so a slow reader holds one chunk.
class ExportReactor final : public grpc::ServerWriteReactor<safeshare::v1::ExportRecordsResponse> {
 public:
  // Exports the records under `checkpoint`, so the export is one consistent
  // snapshot. A JSON-lines export starts with that signed checkpoint; when it
  // is filtered, each record carries its inclusion proof against it.
  ExportReactor(AuditLogStore* store, AuditFilter filter, safeshare::v1::ExportFormat format,
                CommitInfo checkpoint, size_t max_reply_bytes)
      : store_(store),
        filter_(std::move(filter)),
        format_(format),
        checkpoint_(checkpoint),
        max_reply_bytes_(max_reply_bytes) {
    with_proofs_ = !filter_.MatchesAll();
    filter_.before_index = checkpoint_.tree_size;
    header_ = format_ == safeshare::v1::EXPORT_FORMAT_CSV ? std::string(kAuditCsvHeader)
                                                          : AuditJsonCheckpointLine(checkpoint_);
    Next();
  }
  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "export cancelled by the client"));
      return;
    }
    Next();
  }
  void OnDone() override { delete this; }

 private:
  void Next() {
    std::string chunk = std::move(header_);
    header_.clear();
    // Each chunk within max_reply_bytes: it ends before the record that would
    // cross it, and the next chunk starts there.
    ReplyBudget budget(max_reply_bytes_);
    (void)budget.Take(chunk.size());
    // Read the chunk first: proofs read the store too, and its lock is not
    // reentrant.
    std::vector<AuditLeaf> leaves;
    absl::Status st =
        store_->ScanAudit(filter_, next_, kExportChunkRecords, [&](const AuditLeaf& leaf) {
          leaves.push_back(leaf);
          return true;
        });
    bool more = leaves.size() == kExportChunkRecords;
    for (const AuditLeaf& leaf : leaves) {
      if (!st.ok()) break;
      safeshare::v1::AuditRecord record;
      if (!record.ParseFromString(leaf.record)) {
        st = absl::DataLossError(absl::StrCat("audit record ", leaf.index, " does not parse"));
        break;
      }
      std::string line;
      if (format_ == safeshare::v1::EXPORT_FORMAT_CSV) {
        line = AuditCsvRow(record);
      } else if (with_proofs_) {
        auto proof = store_->InclusionProof(leaf.index, checkpoint_.tree_size);
        if (!proof.ok()) {
          st = proof.status();
          break;
        }
        line = AuditJsonLine(leaf, record, &*proof);
      } else {
        line = AuditJsonLine(leaf, record, nullptr);
      }
      if (!budget.Take(line.size())) {
        if (chunk.empty()) {  // alone over the budget: no chunk could carry it
          st = OverReplyLimit(absl::StrCat("audit record ", leaf.index, " as exported"),
                              line.size(), budget.max_bytes());
        }
        more = true;  // the rest from this record, in the next chunk
        break;
      }
      chunk += line;
      next_ = leaf.index + 1;
    }
    if (!st.ok()) {
      Finish(ToGrpcStatus(st));
      return;
    }
    if (chunk.empty()) {
      Finish(grpc::Status::OK);
      return;
    }
    if (!more) done_after_write_ = true;
    response_.set_data(std::move(chunk));
    if (done_after_write_) {
      StartWriteAndFinish(&response_, grpc::WriteOptions(), grpc::Status::OK);
    } else {
      StartWrite(&response_);
    }
  }

  AuditLogStore* store_;
  AuditFilter filter_;
  safeshare::v1::ExportFormat format_;
  CommitInfo checkpoint_;
  size_t max_reply_bytes_;
  bool with_proofs_ = false;
  std::string header_;
  uint64_t next_ = 0;
  bool done_after_write_ = false;
  safeshare::v1::ExportRecordsResponse response_;
};

class FinishedWriter final : public grpc::ServerWriteReactor<safeshare::v1::ExportRecordsResponse> {
 public:
  explicit FinishedWriter(const absl::Status& st) { Finish(ToGrpcStatus(st)); }
  void OnDone() override { delete this; }
};

}  // namespace

grpc::ServerWriteReactor<safeshare::v1::ExportRecordsResponse>* AuditService::ExportRecords(
    grpc::CallbackServerContext* ctx, const safeshare::v1::ExportRecordsRequest* request) {
  auto officer = AuthenticateOfficer(*ctx);
  if (!officer.ok()) return new FinishedWriter(officer.status());
  if (request->format() != safeshare::v1::EXPORT_FORMAT_CSV &&
      request->format() != safeshare::v1::EXPORT_FORMAT_JSON_LINES) {
    return new FinishedWriter(absl::InvalidArgumentError("format must be CSV or JSON_LINES"));
  }
  auto filter = FilterFor(*officer, request->query());
  if (!filter.ok()) return new FinishedWriter(filter.status());
  auto checkpoint = store_->LatestCheckpoint();
  if (!checkpoint.ok()) return new FinishedWriter(checkpoint.status());
  LogEvent("info", "audit.export",
           {{"officer", officer->uri},
            {"format", safeshare::v1::ExportFormat_Name(request->format())},
            {"tree_size", absl::StrCat(checkpoint->tree_size)}});
  return new ExportReactor(store_, std::move(*filter), request->format(), *checkpoint,
                           max_reply_bytes_);
}

grpc::ServerUnaryReactor* AuditService::FlowReport(grpc::CallbackServerContext* ctx,
                                                   const safeshare::v1::FlowReportRequest* request,
                                                   safeshare::v1::FlowReportResponse* response) {
  auto* reactor = ctx->DefaultReactor();
  auto officer = AuthenticateOfficer(*ctx);
  absl::Status st = officer.status();
  safeshare::v1::AuditQuery q;
  *q.mutable_start_time() = request->start_time();
  *q.mutable_end_time() = request->end_time();
  if (!request->has_start_time()) q.clear_start_time();
  if (!request->has_end_time()) q.clear_end_time();
  absl::StatusOr<AuditFilter> filter = absl::InternalError("unset");
  if (st.ok()) {
    filter = FilterFor(*officer, q);
    st = filter.status();
  }
  if (st.ok()) {
    // Decisions only: one per Submit that reached policy.
    std::map<std::pair<std::string, std::string>, std::array<uint64_t, 3>> flows;
    std::map<std::string, std::array<uint64_t, 2>> checks;
    absl::Status parse;
    // In chunks, so that commits are never held up behind a long report.
    uint64_t next = 0;
    for (bool more = true; more && st.ok() && parse.ok();) {
      std::vector<AuditLeaf> leaves;
      st = store_->ScanAudit(*filter, next, 1000, [&](const AuditLeaf& leaf) {
        leaves.push_back(leaf);
        return true;
      });
      more = leaves.size() == 1000;
      for (const AuditLeaf& leaf : leaves) {
        next = leaf.index + 1;
        safeshare::v1::AuditRecord r;
        if (!r.ParseFromString(leaf.record)) {
          parse = absl::DataLossError(absl::StrCat("audit record ", leaf.index, " does not parse"));
          break;
        }
        if (r.event() != safeshare::v1::AUDIT_EVENT_TYPE_DECISION) continue;
        auto& f = flows[{r.sender_area_id(), r.recipient_area_id()}];
        switch (r.decision().decision()) {
          case safeshare::v1::DECISION_ALLOW:
            ++f[0];
            break;
          case safeshare::v1::DECISION_DENY:
            ++f[1];
            break;
          case safeshare::v1::DECISION_HOLD_FOR_ADVICE:
            ++f[2];
            break;
          default:
            break;
        }
        for (const auto& finding : r.decision().findings()) {
          if (finding.outcome() == safeshare::v1::FINDING_OUTCOME_FAIL)
            ++checks[finding.check()][0];
          if (finding.outcome() == safeshare::v1::FINDING_OUTCOME_ADVICE)
            ++checks[finding.check()][1];
        }
      }
    }
    if (st.ok()) st = parse;
    for (const auto& [areas, counts] : flows) {
      auto* f = response->add_flows();
      f->set_from_area_id(areas.first);
      f->set_to_area_id(areas.second);
      f->set_allowed(counts[0]);
      f->set_denied(counts[1]);
      f->set_held(counts[2]);
    }
    for (const auto& [check, counts] : checks) {
      auto* c = response->add_checks();
      c->set_check(check);
      c->set_failed(counts[0]);
      c->set_advice(counts[1]);
    }
    // A report has no pages: one larger than a reply may be is refused.
    if (st.ok() && response->ByteSizeLong() > max_reply_bytes_) {
      st = OverReplyLimit("the flow report", response->ByteSizeLong(), max_reply_bytes_);
    }
    if (!st.ok()) response->Clear();
  }
  reactor->Finish(ToGrpcStatus(st));
  return reactor;
}

}  // namespace safeshare::gateway
