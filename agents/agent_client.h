#ifndef SAFESHARE_AGENTS_AGENT_CLIENT_H_
#define SAFESHARE_AGENTS_AGENT_CLIENT_H_

// The agency side of the wire: a mutual-TLS connection to the gateway under
// the agency's (or officer's) certificate, and one method per RPC.

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "agents/call_canceller.h"
#include "safeshare/v1/advice.grpc.pb.h"
#include "safeshare/v1/audit.grpc.pb.h"
#include "safeshare/v1/directory.grpc.pb.h"
#include "safeshare/v1/mailbox.grpc.pb.h"
#include "safeshare/v1/referrals.grpc.pb.h"

namespace safeshare::agents {

// PEM material for one principal: the federation CA, its certificate and key.
struct AgentIdentity {
  std::string ca_pem;
  std::string cert_pem;
  std::string key_pem;
};

// Reads ca.pem, cert.pem and key.pem from `dir` (as written by `pki init`).
absl::StatusOr<AgentIdentity> LoadIdentity(const std::string& dir);

class AgentClient {
 public:
  // `target` is host:port; the gateway's certificate must name the host.
  static std::unique_ptr<AgentClient> Connect(const std::string& target,
                                              const AgentIdentity& identity,
                                              absl::Duration call_timeout = absl::Seconds(30));

  // On a policy refusal (FAILED_PRECONDITION) the receipt with every finding
  // is written to `refused_receipt` when given.
  absl::StatusOr<safeshare::v1::SubmitResponse> Submit(
      const safeshare::v1::SignedEnvelope& envelope,
      safeshare::v1::SubmitResponse* refused_receipt = nullptr);
  absl::StatusOr<safeshare::v1::FetchResponse> Fetch(int page_size = 0,
                                                     const std::string& page_token = "");
  absl::StatusOr<safeshare::v1::AckResponse> Ack(const std::string& message_id);
  // Records a decision not to share (nothing is sent).
  absl::StatusOr<safeshare::v1::RecordDecisionNotToShareResponse> RecordDecisionNotToShare(
      const safeshare::v1::RecordDecisionNotToShareRequest& request);
  absl::StatusOr<safeshare::v1::GetStatusResponse> GetStatus(const std::string& message_id);
  // The decision on a message this agency sent, in a checkpoint witnesses
  // cosigned (unverified: VerifyReceipt with a witness policy checks it).
  absl::StatusOr<safeshare::v1::WitnessedInclusion> WitnessReceipt(const std::string& message_id);
  // The receipt of a message this agency sent, as it stands (with a peer
  // federation's gateway's receipt once it has one; unverified).
  absl::StatusOr<safeshare::v1::SubmitResponse> GetReceipt(const std::string& message_id);
  absl::StatusOr<safeshare::v1::GetThreadResponse> GetThread(const std::string& message_id);
  absl::StatusOr<safeshare::v1::ListAgenciesResponse> ListAgencies(const std::string& area_id = "");
  // The agency with its key events and their proofs (unverified: the
  // agent's KeyLog checks them); with a consistency proof from
  // `known_tree_size` when set.
  absl::StatusOr<safeshare::v1::GetAgencyResponse> GetAgency(const std::string& agency_id,
                                                             uint64_t known_tree_size = 0);
  // A multi-agency team and its members (NOT_FOUND for an unknown team).
  absl::StatusOr<safeshare::v1::Team> GetTeam(const std::string& team_id);
  // Key changes, signed by the agency's current signing key (AgencyAgent
  // builds and signs them).
  absl::StatusOr<safeshare::v1::PublishKeyResponse> PublishKey(
      const safeshare::v1::SignedKeyStatement& statement);
  absl::StatusOr<safeshare::v1::RevokeKeyResponse> RevokeKey(
      const safeshare::v1::SignedKeyStatement& statement);
  absl::Status RefuseContent(const std::string& message_id,
                             safeshare::v1::ContentRefusalReason reason, const std::string& detail);
  // A live subscription to this agency's mailbox. Read() until it returns
  // false, then Finish(); Cancel() from another thread ends it.
  class Subscription {
   public:
    bool Read(safeshare::v1::MailboxMessage* message);
    absl::Status Finish();
    void Cancel() { ctx_.TryCancel(); }

   private:
    friend class AgentClient;
    Subscription(CallCanceller* canceller) : cancellable_(canceller, &ctx_) {}
    grpc::ClientContext ctx_;
    CallCanceller::Scope cancellable_;
    std::unique_ptr<grpc::ClientReader<safeshare::v1::SubscribeResponse>> reader_;
  };
  std::unique_ptr<Subscription> Subscribe(uint64_t after_sequence = 0);

  // Audit (IG officer identities only).
  absl::StatusOr<safeshare::v1::Checkpoint> GetCheckpoint();
  // The leaf hash and proof of one record in the officer's scope (tree_size
  // 0: the latest checkpoint's).
  absl::StatusOr<safeshare::v1::GetInclusionProofResponse> GetInclusionProof(
      uint64_t leaf_index, uint64_t tree_size = 0);
  absl::StatusOr<safeshare::v1::QueryRecordsResponse> QueryRecords(
      const safeshare::v1::AuditQuery& query, int page_size, const std::string& page_token);
  // Streams an export, handing each chunk to `sink` as it arrives; up to the
  // latest checkpoint witnesses cosigned when `witnessed`.
  absl::Status ExportRecords(const safeshare::v1::AuditQuery& query,
                             safeshare::v1::ExportFormat format,
                             const std::function<absl::Status(const std::string&)>& sink,
                             bool witnessed = false);
  absl::StatusOr<safeshare::v1::FlowReportResponse> FlowReport(
      const safeshare::v1::FlowReportRequest& request);
  absl::StatusOr<safeshare::v1::GetConsistencyProofResponse> ConsistencyProof(uint64_t first,
                                                                              uint64_t second);
  // Erase or rectify one committed text of a record (federation-scope
  // officers); the leaf index of the record of the change.
  absl::StatusOr<uint64_t> EraseText(const safeshare::v1::EraseTextRequest& request);
  absl::StatusOr<uint64_t> RectifyText(const safeshare::v1::RectifyTextRequest& request);

  // Advice (IG officer identities only).
  absl::StatusOr<safeshare::v1::ListHeldResponse> ListHeld(const std::string& page_token = "");
  absl::Status Approve(const std::string& message_id, const std::string& reason);
  absl::Status RefuseHeld(const std::string& message_id, const std::string& reason);

  // OK once the gateway reports SERVING (waits up to the call timeout).
  absl::Status CheckHealth();

  // Every call from now on (and a subscription while it waits to start) can
  // be ended by `canceller`, which must outlive them; null: none.
  void set_canceller(CallCanceller* canceller) { canceller_ = canceller; }

 private:
  AgentClient(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout);
  // Sets the call's deadline; the returned scope keeps it cancellable.
  [[nodiscard]] std::unique_ptr<CallCanceller::Scope> Prepare(grpc::ClientContext& ctx,
                                                              bool wait_for_ready = false) const;

  CallCanceller* canceller_ = nullptr;
  std::shared_ptr<grpc::Channel> channel_;
  absl::Duration timeout_;
  std::unique_ptr<safeshare::v1::Referrals::Stub> referrals_;
  std::unique_ptr<safeshare::v1::Mailbox::Stub> mailbox_;
  std::unique_ptr<safeshare::v1::Directory::Stub> directory_;
  std::unique_ptr<safeshare::v1::Audit::Stub> audit_;
  std::unique_ptr<safeshare::v1::Advice::Stub> advice_;
};

// gRPC status to absl::Status (same canonical codes).
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace safeshare::agents

#endif  // SAFESHARE_AGENTS_AGENT_CLIENT_H_
