#ifndef SAFESHARE_GATEWAY_AUDIT_AUDIT_SERVICE_H_
#define SAFESHARE_GATEWAY_AUDIT_AUDIT_SERVICE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gateway/federation_directory.h"
#include "gateway/principal.h"
#include "gateway/store/store.h"
#include "safeshare/v1/audit.grpc.pb.h"

namespace safeshare::gateway {

// The Audit service, for IG officer principals only. Each officer sees the
// flows its scope covers: its agency, its agency's area, or the federation.
class AuditService final : public safeshare::v1::Audit::CallbackService {
 public:
  // `store` is read, and written: every officer read of records, and every
  // erasure or rectification, is itself an audit record.
  AuditService(const FederationHolder* directory, Store* store, size_t max_reply_bytes)
      : directory_(directory), store_(store), max_reply_bytes_(max_reply_bytes) {}

  grpc::ServerUnaryReactor* GetCheckpoint(grpc::CallbackServerContext* ctx,
                                          const safeshare::v1::GetCheckpointRequest* request,
                                          safeshare::v1::GetCheckpointResponse* response) override;
  grpc::ServerUnaryReactor* GetInclusionProof(
      grpc::CallbackServerContext* ctx, const safeshare::v1::GetInclusionProofRequest* request,
      safeshare::v1::GetInclusionProofResponse* response) override;
  grpc::ServerUnaryReactor* GetConsistencyProof(
      grpc::CallbackServerContext* ctx, const safeshare::v1::GetConsistencyProofRequest* request,
      safeshare::v1::GetConsistencyProofResponse* response) override;
  grpc::ServerUnaryReactor* QueryRecords(grpc::CallbackServerContext* ctx,
                                         const safeshare::v1::QueryRecordsRequest* request,
                                         safeshare::v1::QueryRecordsResponse* response) override;
  grpc::ServerWriteReactor<safeshare::v1::ExportRecordsResponse>* ExportRecords(
      grpc::CallbackServerContext* ctx,
      const safeshare::v1::ExportRecordsRequest* request) override;
  grpc::ServerUnaryReactor* FlowReport(grpc::CallbackServerContext* ctx,
                                       const safeshare::v1::FlowReportRequest* request,
                                       safeshare::v1::FlowReportResponse* response) override;
  grpc::ServerUnaryReactor* EraseText(grpc::CallbackServerContext* ctx,
                                      const safeshare::v1::EraseTextRequest* request,
                                      safeshare::v1::EraseTextResponse* response) override;
  grpc::ServerUnaryReactor* RectifyText(grpc::CallbackServerContext* ctx,
                                        const safeshare::v1::RectifyTextRequest* request,
                                        safeshare::v1::RectifyTextResponse* response) override;

  // The store filter for `query` as seen by `officer` (scope applied).
  // INVALID_ARGUMENT for a malformed query.
  absl::StatusOr<AuditFilter> FilterFor(const Principal& officer,
                                        const safeshare::v1::AuditQuery& query) const;

 private:
  absl::StatusOr<Principal> AuthenticateOfficer(const grpc::CallbackServerContext& ctx) const;
  // Erase (no new text) or rectify, for federation-scope officers only.
  grpc::ServerUnaryReactor* ChangeText(grpc::CallbackServerContext* ctx, AuditTextChange change,
                                       std::function<void(uint64_t)> set_leaf);

  const FederationHolder* directory_;
  Store* store_;
  size_t max_reply_bytes_;
};

// One record as a CSV row (fields in kAuditCsvHeader order), and as a JSON
// line carrying the exact hashed bytes (and, for filtered exports, the
// inclusion proof) for offline verification; format in docs/audit-log.md.
extern const char kAuditCsvHeader[];
std::string AuditCsvRow(const safeshare::v1::AuditRecord& record);
// `disclosures` open the record's text commitments (docs/audit-log.md).
std::string AuditJsonLine(const AuditLeaf& leaf, const safeshare::v1::AuditRecord& record,
                          const std::vector<std::string>* inclusion_proof,
                          const std::vector<safeshare::v1::TextDisclosure>& disclosures = {});

// The RECORDS_READ record of an officer's read: who, the filter as asked
// (its subject reference committed like free text), how many records.
safeshare::v1::AuditRecord RecordsReadRecord(const std::string& officer_uri,
                                             const safeshare::v1::AuditQuery& query,
                                             uint64_t count);
// The first line of a JSON-lines export: the signed checkpoint it is under.
std::string AuditJsonCheckpointLine(const CommitInfo& checkpoint);

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_AUDIT_AUDIT_SERVICE_H_
