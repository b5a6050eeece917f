#include "gateway/audit/audit_service.h"

#include <map>
#include <set>
#include <tuple>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/enum_text.h"
#include "common/log.h"
#include "envelope/digest.h"
#include "envelope/envelope_shape.h"
#include "gateway/audit/receipt_proofs.h"
#include "gateway/audit/record_texts.h"
#include "gateway/authentication.h"
#include "gateway/grpc_status.h"
#include "gateway/officer_scope.h"
#include "gateway/reply_budget.h"
#include "gateway/store/audit_text.h"
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
    "subject_reference,actor,reason,status_code,state,target_leaf_index,target_field,read_count\n";

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
      r.target_field().empty() ? std::string() : absl::StrCat(r.target_leaf_index()),
      r.target_field(),
      r.event() == v1::AUDIT_EVENT_TYPE_RECORDS_READ ? absl::StrCat(r.read_count()) : "",
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
                          const std::vector<std::string>* proof,
                          const std::vector<safeshare::v1::TextDisclosure>& disclosures) {
  safeshare::v1::AuditExportLine line;
  line.set_index(leaf.index);
  line.set_leaf_hash(envelope::ToHex(leaf.leaf_hash));
  line.set_record_bytes(leaf.record);
  *line.mutable_record() = record;
  if (proof != nullptr) {
    for (const auto& h : *proof) line.add_inclusion_proof(envelope::ToHex(h));
  }
  for (const auto& d : disclosures) *line.add_disclosures() = d;
  return JsonLine(line);
}

safeshare::v1::AuditRecord RecordsReadRecord(const std::string& officer_uri,
                                             const safeshare::v1::AuditQuery& query,
                                             uint64_t count) {
  safeshare::v1::AuditRecord r;
  r.set_event(safeshare::v1::AUDIT_EVENT_TYPE_RECORDS_READ);
  r.set_actor(officer_uri);
  *r.mutable_read_query() = query;
  r.set_read_count(count);
  return r;
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
    auto cosigned = store_->LatestCosignedCheckpoint();
    if (st.ok()) st = cosigned.status();
    if (st.ok() && cosigned->has_value()) {
      *response->mutable_cosigned() = CheckpointProto(**cosigned);
    }
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
    std::vector<safeshare::v1::AuditRecord> read;
    st = store_->ScanAudit(*filter, start, limit, [&](const AuditLeaf& leaf) {
      if (!budget.Take(leaf.record.size())) {
        if (read.empty()) {
          parse = OverReplyLimit(absl::StrCat("audit record ", leaf.index), leaf.record.size(),
                                 budget.max_bytes());
        }
        cut = true;
        return false;
      }
      if (!read.emplace_back().ParseFromString(leaf.record)) {
        parse = absl::DataLossError(absl::StrCat("audit record ", leaf.index, " does not parse"));
        return false;
      }
      last = leaf.index;
      return true;
    });
    if (st.ok()) st = parse;
    // The text back where it was committed, as it now reads.
    if (st.ok()) {
      auto texts = RecordTexts::Load(*store_, read);
      st = texts.status();
      if (texts.ok()) {
        for (auto& r : read) {
          texts->Show(r);
          *response->add_records() = std::move(r);
        }
      }
    }
    // Texts make records longer than as hashed: the page ends before the
    // record that takes it over the limit.
    while (st.ok() && response->records_size() > 1 && response->ByteSizeLong() > max_reply_bytes_) {
      response->mutable_records()->RemoveLast();
      last = response->records(response->records_size() - 1).sequence();
      cut = true;
    }
    if (st.ok() && response->ByteSizeLong() > max_reply_bytes_) {
      st = OverReplyLimit(absl::StrCat("audit record ", response->records(0).sequence()),
                          response->ByteSizeLong(), max_reply_bytes_);
    }
    if (st.ok() && (cut || static_cast<size_t>(response->records_size()) == limit)) {
      response->set_next_page_token(absl::StrCat(last + 1));
    }
    if (!st.ok()) response->Clear();
    if (st.ok()) {
      LogEvent("info", "audit.query",
               {{"officer", officer->uri}, {"count", absl::StrCat(response->records_size())}});
      // The read is itself a record; no answer without it.
      auto record = RecordsReadRecord(officer->uri, request->query(),
                                      static_cast<uint64_t>(response->records_size()));
      store_->Commit([record](StoreTransaction& tx) { return tx.AppendAudit(record).status(); },
                     [reactor, response](const absl::Status& committed, const CommitInfo&) {
                       if (!committed.ok()) response->Clear();
                       reactor->Finish(ToGrpcStatus(committed));
                     });
      return reactor;
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
  ExportReactor(Store* store, AuditFilter filter, safeshare::v1::ExportFormat format,
                CommitInfo checkpoint, size_t max_reply_bytes, safeshare::v1::AuditRecord read)
      : store_(store),
        read_(std::move(read)),
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
    std::vector<safeshare::v1::AuditRecord> records(leaves.size());
    for (size_t i = 0; i < leaves.size() && st.ok(); ++i) {
      if (!records[i].ParseFromString(leaves[i].record)) {
        st = absl::DataLossError(absl::StrCat("audit record ", leaves[i].index, " does not parse"));
      }
    }
    absl::StatusOr<RecordTexts> texts = absl::InternalError("unset");
    if (st.ok()) {
      texts = RecordTexts::Load(*store_, records);
      st = texts.status();
    }
    for (size_t i = 0; i < leaves.size(); ++i) {
      if (!st.ok()) break;
      const AuditLeaf& leaf = leaves[i];
      safeshare::v1::AuditRecord& record = records[i];
      texts->Show(record);
      std::string line;
      if (format_ == safeshare::v1::EXPORT_FORMAT_CSV) {
        line = AuditCsvRow(record);
      } else if (with_proofs_) {
        auto proof = store_->InclusionProof(leaf.index, checkpoint_.tree_size);
        if (!proof.ok()) {
          st = proof.status();
          break;
        }
        line = AuditJsonLine(leaf, record, &*proof, texts->Disclosures(leaf.index));
      } else {
        line = AuditJsonLine(leaf, record, nullptr, texts->Disclosures(leaf.index));
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
      ++exported_;
    }
    if (!st.ok()) {
      Finish(ToGrpcStatus(st));
      return;
    }
    if (chunk.empty()) {
      RecordThen([this](const absl::Status& recorded) { Finish(ToGrpcStatus(recorded)); });
      return;
    }
    response_.set_data(std::move(chunk));
    if (more) {
      StartWrite(&response_);
      return;
    }
    // The last chunk goes once the export is recorded; unrecorded, the
    // export ends in the error, not OK.
    RecordThen([this](const absl::Status& recorded) {
      if (recorded.ok()) {
        StartWriteAndFinish(&response_, grpc::WriteOptions(), grpc::Status::OK);
      } else {
        Finish(ToGrpcStatus(recorded));
      }
    });
  }

  // Appends the RECORDS_READ record with the count exported, then `then`.
  void RecordThen(std::function<void(const absl::Status&)> then) {
    read_.set_read_count(exported_);
    auto record = std::make_shared<safeshare::v1::AuditRecord>(read_);
    store_->Commit([record](StoreTransaction& tx) { return tx.AppendAudit(*record).status(); },
                   [then](const absl::Status& st, const CommitInfo&) { then(st); });
  }

  Store* store_;
  safeshare::v1::AuditRecord read_;
  uint64_t exported_ = 0;
  AuditFilter filter_;
  safeshare::v1::ExportFormat format_;
  CommitInfo checkpoint_;
  size_t max_reply_bytes_;
  bool with_proofs_ = false;
  std::string header_;
  uint64_t next_ = 0;
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
  absl::StatusOr<CommitInfo> checkpoint = store_->LatestCheckpoint();
  if (request->witnessed()) {
    auto cosigned = store_->LatestCosignedCheckpoint();
    if (!cosigned.ok()) return new FinishedWriter(cosigned.status());
    if (!cosigned->has_value()) {
      return new FinishedWriter(absl::FailedPreconditionError(
          "no checkpoint has been cosigned by witnesses yet (witnessing is not configured, or "
          "the witnesses have not answered): export without --witnessed, or ask later"));
    }
    checkpoint = **cosigned;
  }
  if (!checkpoint.ok()) return new FinishedWriter(checkpoint.status());
  LogEvent("info", "audit.export",
           {{"officer", officer->uri},
            {"format", safeshare::v1::ExportFormat_Name(request->format())},
            {"tree_size", absl::StrCat(checkpoint->tree_size)}});
  return new ExportReactor(store_, std::move(*filter), request->format(), *checkpoint,
                           max_reply_bytes_, RecordsReadRecord(officer->uri, request->query(), 0));
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
    std::map<std::pair<std::string, std::string>, std::array<uint64_t, 4>> flows;
    std::set<std::pair<std::string, std::string>> not_shared_seen;
    std::map<std::string, std::array<uint64_t, 2>> checks;
    absl::Status parse;
    // In chunks, so that commits are never held up behind a long report.
    uint64_t next = 0;
    uint64_t counted = 0;
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
        if (r.event() == safeshare::v1::AUDIT_EVENT_TYPE_DECIDED_NOT_TO_SHARE) {
          // At-least-once recording: each decision id counts once.
          if (not_shared_seen.insert({r.sender_agency_id(), r.message_id()}).second) {
            ++counted;
            ++flows[{r.sender_area_id(), r.recipient_area_id()}][3];
          }
          continue;
        }
        if (r.event() != safeshare::v1::AUDIT_EVENT_TYPE_DECISION) continue;
        ++counted;
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
      f->set_not_shared(counts[3]);
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
    if (st.ok()) {
      // The report read those decisions: recorded, as every officer read is.
      auto record = RecordsReadRecord(officer->uri, q, counted);
      store_->Commit(
          [record](StoreTransaction& tx) -> absl::Status {
            return tx.AppendAudit(record).status();
          },
          [reactor, response](const absl::Status& committed, const CommitInfo&) {
            if (!committed.ok()) response->Clear();
            reactor->Finish(ToGrpcStatus(committed));
          });
      return reactor;
    }
  }
  reactor->Finish(ToGrpcStatus(st));
  return reactor;
}

namespace {
constexpr size_t kMaxChangeTextBytes = 4096;
}  // namespace

grpc::ServerUnaryReactor* AuditService::ChangeText(grpc::CallbackServerContext* ctx,
                                                   AuditTextChange change,
                                                   std::function<void(uint64_t)> set_leaf) {
  auto* reactor = ctx->DefaultReactor();
  const auto directory = directory_->Current();
  auto officer = AuthenticateOfficer(*ctx);
  absl::Status st = officer.status();
  if (st.ok()) {
    const auto* entry = directory->FindOfficer(officer->agency_id, officer->officer_id);
    if (entry == nullptr || entry->scope() != safeshare::v1::Officer::SCOPE_FEDERATION) {
      st = absl::PermissionDeniedError(
          "erasing or rectifying audit text is for federation-scope officers only");
    }
  }
  if (st.ok() && !audit_text::IsCommittedField(change.field)) {
    st = absl::InvalidArgumentError(
        absl::StrCat("field must be one of: ", absl::StrJoin(audit_text::CommittedFields(), ", ")));
  }
  if (st.ok() && change.reason.empty()) {
    st = absl::InvalidArgumentError("reason is required: say why the text is changed");
  }
  if (st.ok() && change.reason.size() > kMaxChangeTextBytes) {
    st = absl::InvalidArgumentError(absl::StrCat("reason is over ", kMaxChangeTextBytes, " bytes"));
  }
  if (st.ok() && change.new_text.has_value()) {
    if (change.new_text->empty()) {
      st = absl::InvalidArgumentError("new_text is empty: erase the text instead");
    } else if (change.new_text->size() > kMaxChangeTextBytes) {
      st = absl::InvalidArgumentError(
          absl::StrCat("new_text is over ", kMaxChangeTextBytes, " bytes"));
    } else if (absl::EndsWith(change.field, "subject_reference") &&
               !envelope::IsValidSubjectReference(*change.new_text)) {
      st = absl::InvalidArgumentError(
          "new_text: a subject reference is 64 lowercase hex characters (the HMAC-SHA256 of "
          "the child's identifier), never the identifier itself");
    }
  }
  if (!st.ok()) {
    reactor->Finish(ToGrpcStatus(st));
    return reactor;
  }
  change.officer_uri = officer->uri;
  change.now = absl::Now();
  auto shared = std::make_shared<AuditTextChange>(std::move(change));
  auto index = std::make_shared<uint64_t>(0);
  store_->Commit(
      [shared, index](StoreTransaction& tx) -> absl::Status {
        auto appended = tx.ChangeAuditText(*shared);
        if (!appended.ok()) return appended.status();
        *index = *appended;
        return absl::OkStatus();
      },
      [reactor, shared, index, set_leaf](const absl::Status& committed, const CommitInfo&) {
        if (committed.ok()) {
          set_leaf(*index);
          // Never the text: which leaf and field, by whom.
          LogEvent("info",
                   shared->new_text.has_value() ? "audit.text_rectified" : "audit.text_erased",
                   {{"officer", shared->officer_uri},
                    {"leaf", absl::StrCat(shared->leaf_index)},
                    {"field", shared->field},
                    {"record", absl::StrCat(*index)}});
        }
        reactor->Finish(ToGrpcStatus(committed));
      });
  return reactor;
}

grpc::ServerUnaryReactor* AuditService::EraseText(grpc::CallbackServerContext* ctx,
                                                  const safeshare::v1::EraseTextRequest* request,
                                                  safeshare::v1::EraseTextResponse* response) {
  AuditTextChange change;
  change.leaf_index = request->leaf_index();
  change.field = request->field();
  change.reason = request->reason();
  return ChangeText(ctx, std::move(change),
                    [response](uint64_t leaf) { response->set_leaf_index(leaf); });
}

grpc::ServerUnaryReactor* AuditService::RectifyText(
    grpc::CallbackServerContext* ctx, const safeshare::v1::RectifyTextRequest* request,
    safeshare::v1::RectifyTextResponse* response) {
  AuditTextChange change;
  change.leaf_index = request->leaf_index();
  change.field = request->field();
  change.reason = request->reason();
  change.new_text = request->new_text();
  return ChangeText(ctx, std::move(change),
                    [response](uint64_t leaf) { response->set_leaf_index(leaf); });
}

}  // namespace safeshare::gateway
