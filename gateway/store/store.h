#ifndef SAFESHARE_GATEWAY_STORE_STORE_H_
#define SAFESHARE_GATEWAY_STORE_STORE_H_

// The Store seam: everything the gateway keeps durably, in three parts
// (MailboxStore, KeyStore, AuditLogStore) that Store combines. Two back-ends:
// SQLite embedded (store/sqlite/), PostgreSQL for scale-out (store/postgres/).
//
// Every mutating call is one transaction, committed durably before it returns
// OK. Errors: UNAVAILABLE when the store cannot write (disk full, read-only,
// I/O error: safe to retry), NOT_FOUND / PERMISSION_DENIED as documented.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gateway/store/audit_text.h"
#include "safeshare/v1/audit.pb.h"
#include "safeshare/v1/directory.pb.h"
#include "safeshare/v1/enums.pb.h"
#include "safeshare/v1/mailbox.pb.h"

namespace safeshare::gateway {

struct StateChange {
  safeshare::v1::MessageState state;
  absl::Time time;
};

struct StoredMessage {
  // Position in the store, increasing with arrival in a mailbox: an approved
  // hold takes a new one then.
  uint64_t sequence = 0;
  std::string message_id;
  std::string sender_agency_id;
  std::string recipient_agency_id;
  safeshare::v1::MessageKind kind = safeshare::v1::MESSAGE_KIND_UNSPECIFIED;
  std::string signed_envelope;  // serialized SignedEnvelope, as received
  std::string envelope_sha256;  // of SignedEnvelope.envelope_bytes
  std::string receipt;          // serialized SubmitResponse, returned on retries
  safeshare::v1::MessageState state = safeshare::v1::MESSAGE_STATE_UNSPECIFIED;
  absl::Time accepted_time;
  std::optional<absl::Time> first_delivered_time;
  std::optional<absl::Time> acknowledged_time;
  std::vector<StateChange> history;  // filled by GetMessage only
  safeshare::v1::Urgency urgency = safeshare::v1::URGENCY_UNSPECIFIED;
  std::optional<absl::Time> acknowledge_deadline;
  std::optional<absl::Time> escalated_time;
  // How long delivered content is kept after acknowledgement (from the ISA);
  // zero keeps it until an operator removes it.
  absl::Duration retention = absl::ZeroDuration();
  safeshare::v1::ContentRefusalReason refusal_reason =
      safeshare::v1::CONTENT_REFUSAL_REASON_UNSPECIFIED;
  std::string refusal_detail;
  // For replies: the message answered (a thread is one message and its replies).
  std::string in_reply_to;
  // The serialized SharingDeclaration, kept after the content is purged.
  std::string declaration;
  // When a reply to this message first reached its sender's mailbox.
  std::optional<absl::Time> answered_time;
};

// Which of a message's two large columns a read loads: the sealed envelope
// (up to max_message_bytes) and the receipt (the decision, with the audit
// record). Everything else, the declaration included, is always loaded;
// what is skipped reads as empty.
enum class MessageRead {
  kAll,
  kContent,   // the envelope, for delivery
  kDecision,  // the receipt, for held lists
  kMetadata,  // neither: status, threads, escalations, state changes
};

// The sequences among `messages` not yet handed over to their recipient.
std::vector<uint64_t> FirstHandOvers(const std::vector<StoredMessage>& messages);

// One recipient's unacknowledged mail (MailboxStore::Mailboxes).
struct MailboxSummary {
  std::string agency_id;
  uint64_t waiting = 0;
  absl::Time oldest_accepted;
  uint64_t overdue = 0;
};

// A public key in the directory, with the agency it belongs to.
struct AgencyKey {
  std::string agency_id;
  safeshare::v1::PublicKey key;
};

// One key event's leaf in the audit log (key transparency).
struct KeyEventRow {
  uint64_t leaf_index = 0;
  std::string agency_id;
  std::string key_id;
};

// What seeding a federation-file key changed, and the key as it now stands.
enum class SeedOutcome {
  kUnchanged,
  kInserted,  // a new key: registered
  kRevoked,   // a stored key the file now marks revoked
};
struct SeedResult {
  SeedOutcome outcome = SeedOutcome::kUnchanged;
  safeshare::v1::PublicKey key;
};

struct InsertResult {
  bool inserted = false;  // false: the message id was already stored
  // When !inserted, the row stored earlier, without its sealed envelope
  // (MessageRead::kDecision); else empty.
  StoredMessage message;
};

// An officer's correction or erasure of one committed text of a leaf.
struct AuditTextChange {
  uint64_t leaf_index = 0;
  std::string field;                    // one of audit_text::CommittedFields()
  std::optional<std::string> new_text;  // absent: erase
  std::string officer_uri;
  std::string reason;  // required; committed in the change's own record
  absl::Time now;
};

// What a batch of durable work sees: one transaction shared by every job in a
// group commit. Each job runs inside its own savepoint, so a job that fails is
// rolled back alone.
class StoreTransaction {
 public:
  virtual ~StoreTransaction() = default;

  // Stores a new message in state `m.state`. If the message id exists, stores
  // nothing and returns the existing row with inserted = false. A SUBMITTED
  // or HELD message's acknowledge_deadline is its open deadline (to be
  // acknowledged, answered or decided). A SUBMITTED reply marks the message it
  // answers ANSWERED (a request) or OUTCOME_RECEIVED (a referral).
  virtual absl::StatusOr<InsertResult> InsertMessage(const StoredMessage& m) = 0;

  // Whether `reply` (a new message with in_reply_to set) may join its thread:
  // RESOURCE_EXHAUSTED naming max_replies_per_thread when the message it
  // answers already has `max_replies` replies (any state; a resubmission of
  // one of them does not count against itself). Counted in the batch's
  // transaction, which every writer takes in turn, so the count cannot race.
  virtual absl::Status CheckReplyQuota(const StoredMessage& reply, uint32_t max_replies) = 0;
  // RESOURCE_EXHAUSTED when `m`'s content would take its recipient's
  // unacknowledged content over `quota` bytes; a message already stored (a
  // retry) passes. Counted in the batch's transaction, as above.
  virtual absl::Status CheckMailboxQuota(const StoredMessage& m, uint64_t quota) = 0;

  // Marks a message acknowledged by its recipient; idempotent. PERMISSION_DENIED
  // when no such message is in `recipient`'s mailbox. A message not yet marked
  // handed over is marked so at `now` too (first_delivered_time == now tells
  // the caller to audit the hand-over); so does RefuseContent.
  virtual absl::StatusOr<StoredMessage> Acknowledge(const std::string& recipient,
                                                    const std::string& message_id,
                                                    absl::Time now) = 0;

  // Records that the recipient's agent refused a message's content; it leaves
  // the mailbox. PERMISSION_DENIED as for Acknowledge. Idempotent.
  virtual absl::StatusOr<StoredMessage> RefuseContent(const std::string& recipient,
                                                      const std::string& message_id,
                                                      safeshare::v1::ContentRefusalReason reason,
                                                      const std::string& detail,
                                                      absl::Time now) = 0;

  // Replaces the receipt kept for a message in `recipient`'s mailbox (the
  // forwarder adds a peer gateway's receipt to it). PERMISSION_DENIED as for
  // Acknowledge.
  virtual absl::Status ReplaceReceipt(const std::string& recipient, const std::string& message_id,
                                      const std::string& receipt) = 0;

  // Records the first hand-over of messages already sent to `recipient` over a
  // live subscription (those not yet marked), returning the ones it marked.
  virtual absl::StatusOr<std::vector<StoredMessage>> MarkDelivered(
      const std::string& recipient, const std::vector<uint64_t>& sequences, absl::Time now) = 0;

  // Settles a HELD message on an IG officer's decision: approved, it enters the
  // recipient's mailbox (SUBMITTED, with deadline_for(it); a reply
  // then answers its thread as on insert); refused, it becomes REFUSED and its
  // sealed content is dropped. NOT_FOUND if absent or not sent by one of
  // `senders` (the deciding officer's scope; empty: any), the same either
  // way and before the state is looked at; FAILED_PRECONDITION if in scope
  // but not held.
  virtual absl::StatusOr<StoredMessage> ResolveHeld(
      const std::string& message_id, const std::vector<std::string>& senders, bool approve,
      const std::function<absl::Time(const StoredMessage&)>& deadline_for, absl::Time now) = 0;

  // Escalates up to `limit` messages whose open deadline passed before `now`,
  // once each, and returns them: unacknowledged messages, unanswered requests
  // (both become ESCALATED) and undecided holds (they stay HELD).
  virtual absl::StatusOr<std::vector<StoredMessage>> EscalateOverdue(absl::Time now, int limit) = 0;

  // Removes the sealed content of up to `limit` acknowledged messages whose
  // retention ran out before `now` (state EXPIRED) and returns them. Their
  // audit records stay.
  virtual absl::StatusOr<std::vector<StoredMessage>> PurgeExpired(absl::Time now, int limit) = 0;

  // The key directory (key_rules.h), in the batch's transaction so that each
  // change commits with the key event that records it in the audit log.
  // SeedKey adds a federation-file key unless its id is stored (current only
  // if the agency has no current key of that purpose; a key the file marks
  // revoked is revoked in the store too). PublishKey makes `key` the agency's
  // current key of its purpose, the previous current key staying, not
  // current; idempotent for the same agency and key; ALREADY_EXISTS if the id
  // belongs to another agency or was revoked. RevokeKey: NOT_FOUND if the
  // agency has no such key.
  virtual absl::StatusOr<SeedResult> SeedKey(const AgencyKey& key, absl::Time now) = 0;
  virtual absl::StatusOr<safeshare::v1::PublicKey> PublishKey(const AgencyKey& key,
                                                              absl::Time now) = 0;
  virtual absl::StatusOr<safeshare::v1::PublicKey> RevokeKey(const std::string& agency_id,
                                                             const std::string& key_id,
                                                             absl::Time now) = 0;
  // The leaf index of the agency's latest key event, if it has one.
  virtual absl::StatusOr<std::optional<uint64_t>> LastKeyEvent(const std::string& agency_id) = 0;
  // Indexes a key event appended in this transaction.
  virtual absl::Status RecordKeyEvent(const KeyEventRow& event) = 0;

  // Appends a record to the audit log, assigning its sequence number (the
  // leaf index) and time. Returns the leaf index; `hashed_bytes`, if given,
  // receives the record exactly as hashed.
  virtual absl::StatusOr<uint64_t> AppendAudit(safeshare::v1::AuditRecord record,
                                               std::string* hashed_bytes = nullptr) = 0;

  // Erases or rectifies a committed text (audit_text.h) and appends the
  // TEXT_ERASED / TEXT_RECTIFIED record for it, which names the target and
  // commits the officer's reason (and a rectification's new text), never the
  // text erased. An erasure also clears the text from the message's stored
  // declaration (or refusal detail) and the subject-reference query column.
  // Returns the new record's leaf index. INVALID_ARGUMENT for a field that is
  // not committed text, an empty reason or an empty new text; NOT_FOUND when
  // the leaf has no such text; FAILED_PRECONDITION when it is erased.
  virtual absl::StatusOr<uint64_t> ChangeAuditText(const AuditTextChange& change) = 0;
};

// The audit log after a commit: its size and the signed checkpoint for it.
struct CommitInfo {
  uint64_t tree_size = 0;
  std::string root_hash;        // 32 bytes
  std::string checkpoint_note;  // C2SP signed note; empty when no signer is set
};

// Signs a checkpoint for a tree size and root, returning the note text.
using CheckpointSigner =
    std::function<absl::StatusOr<std::string>(uint64_t tree_size, const std::string& root_hash)>;

// One stored audit leaf.
struct AuditLeaf {
  uint64_t index = 0;
  std::string record;  // serialized AuditRecord, exactly as hashed
  std::string leaf_hash;
};

// Filters for audit queries; empty fields match everything.
struct AuditFilter {
  std::vector<std::string> agencies;  // sender or recipient is one of these (scope)
  std::string agency_id;              // sender or recipient
  std::string area_id;                // sender's or recipient's area
  std::optional<absl::Time> start, end;
  int kind = 0, purpose = 0, decision = 0;
  std::string failed_check;
  std::string subject_reference;
  std::optional<uint64_t> before_index;  // only leaves below this index

  // True when nothing but before_index is set: every record matches.
  bool MatchesAll() const {
    return agencies.empty() && agency_id.empty() && area_id.empty() && !start && !end &&
           kind == 0 && purpose == 0 && decision == 0 && failed_check.empty() &&
           subject_reference.empty();
  }
};

// What other processes sharing the store changed (several gateway replicas on
// one PostgreSQL). Called from a store thread; must be quick.
struct StoreEvents {
  std::function<void(const std::string& recipient)> mail;  // new mail for an agency
  std::function<void()> keys;                              // a key was published or revoked
  std::function<void()> resync;                            // events may have been missed
};

// The mailbox: messages and their lives. Its transactions (Commit) are the
// store's only writes besides keys, so a mailbox change and the audit record
// for it commit together or not at all.
class MailboxStore {
 public:
  using Work = std::function<absl::Status(StoreTransaction&)>;
  using Done = std::function<void(const absl::Status&, const CommitInfo&)>;

  virtual ~MailboxStore() = default;

  // Runs `work` in the next group commit. `done` runs once the batch is
  // durably committed (OK), or with the job's error (its savepoint rolled
  // back), or with the commit's error. Never blocks on the disk.
  virtual void Commit(Work work, Done done) = 0;
  // At most this many jobs wait for the committer (default 10000); beyond it
  // Commit refuses at once with RESOURCE_EXHAUSTED, so a flood is turned
  // away instead of growing the queue without end.
  virtual void SetCommitQueueLimit(size_t max_jobs) = 0;
  // For metrics: told of every batch committed or failed; and the jobs
  // waiting now. Set the observer before the first Commit.
  using CommitObserver = std::function<void(size_t jobs, absl::Duration took, bool ok)>;
  virtual void SetCommitObserver(CommitObserver observer) { (void)observer; }
  // Told the duration of each fsync the store makes itself. The embedded
  // store only: PostgreSQL fsyncs on its server (watch it there).
  using SyncObserver = std::function<void(absl::Duration took)>;
  virtual void SetSyncObserver(SyncObserver observer) { (void)observer; }
  virtual size_t QueuedCommits() { return 0; }
  // Commit and wait.
  absl::Status CommitAndWait(Work work, CommitInfo* info = nullptr);

  // One-mutation conveniences (one job, waited for).
  absl::StatusOr<InsertResult> InsertMessage(const StoredMessage& m);
  // PendingForRecipient, then MarkDelivered for those not yet handed over
  // (without an audit record): the returned rows show the hand-over.
  absl::StatusOr<std::vector<StoredMessage>> FetchForRecipient(const std::string& recipient,
                                                               uint64_t after_sequence, int limit,
                                                               absl::Time now);
  absl::StatusOr<StoredMessage> Acknowledge(const std::string& recipient,
                                            const std::string& message_id, absl::Time now);
  absl::StatusOr<StoredMessage> RefuseContent(const std::string& recipient,
                                              const std::string& message_id,
                                              safeshare::v1::ContentRefusalReason reason,
                                              const std::string& detail, absl::Time now);

  // One message with its state history, from committed data, with the
  // columns `read` names. NOT_FOUND if absent.
  virtual absl::StatusOr<StoredMessage> GetMessage(const std::string& message_id,
                                                   MessageRead read) = 0;
  absl::StatusOr<StoredMessage> GetMessage(const std::string& message_id) {
    return GetMessage(message_id, MessageRead::kAll);
  }

  // A thread from committed data, metadata only: the message `root_id`, then
  // the messages replying to it in arrival order, each with its history;
  // those after sequence `after` only, at most `limit` rows. Empty if absent.
  virtual absl::StatusOr<std::vector<StoredMessage>> ListThread(const std::string& root_id,
                                                                uint64_t after, int limit) = 0;

  // Held messages from any of `senders` (all senders when empty), oldest
  // first, after `after_sequence`; with their receipts, without their sealed
  // envelopes (MessageRead::kDecision).
  virtual absl::StatusOr<std::vector<StoredMessage>> ListHeld(
      const std::vector<std::string>& senders, uint64_t after_sequence, int limit) = 0;

  // Up to `limit` unacknowledged deliverable messages for `recipient` after
  // `after_sequence`, read from committed data without waiting for the
  // committer (and without recording anything); without their receipts
  // (MessageRead::kContent).
  virtual absl::StatusOr<std::vector<StoredMessage>> PendingForRecipient(
      const std::string& recipient, uint64_t after_sequence, int limit) = 0;

  // Per recipient with unacknowledged mail: how many wait, since when, and
  // how many are past their acknowledgement deadline at `now` (for metrics).
  virtual absl::StatusOr<std::vector<MailboxSummary>> Mailboxes(absl::Time now) = 0;
  // The bytes the store takes (SQLite: the database and its WAL; PostgreSQL:
  // the database), for the metrics and a full-disk alert.
  virtual absl::StatusOr<uint64_t> SizeBytes() = 0;
};

// The key directory: agencies' public keys.
class KeyStore {
 public:
  virtual ~KeyStore() = default;

  // Every published key, in publication order.
  virtual absl::StatusOr<std::vector<AgencyKey>> ListKeys() = 0;

  // Every key event's leaf, in log order. Keys change only inside mailbox
  // transactions (StoreTransaction::PublishKey and the rest), each with its
  // key event.
  virtual absl::StatusOr<std::vector<KeyEventRow>> ListKeyEvents() = 0;
};

// The audit log (RFC 6962 over AuditRecords), as committed. Records are
// appended inside mailbox transactions (StoreTransaction::AppendAudit).
class AuditLogStore {
 public:
  virtual ~AuditLogStore() = default;

  // Signs a checkpoint after every batch that appended to the log. Set before
  // the first commit.
  virtual void SetCheckpointSigner(CheckpointSigner signer) = 0;
  // The latest checkpoint (tree_size 0 and empty note for an empty log).
  virtual absl::StatusOr<CommitInfo> LatestCheckpoint() = 0;
  // Every stored checkpoint note, oldest first.
  virtual absl::StatusOr<std::vector<std::string>> Checkpoints() = 0;
  virtual absl::StatusOr<std::vector<std::string>> InclusionProof(uint64_t leaf_index,
                                                                  uint64_t tree_size) = 0;
  virtual absl::StatusOr<std::vector<std::string>> ConsistencyProof(uint64_t first_size,
                                                                    uint64_t second_size) = 0;
  virtual absl::StatusOr<AuditLeaf> GetAuditLeaf(uint64_t leaf_index) = 0;
  // The hashes of `count` consecutive complete subtrees of height `level`
  // (2^level leaves each) from the `first`: the rows of a C2SP tlog-tiles
  // tile. OUT_OF_RANGE when the last is beyond the committed log.
  virtual absl::StatusOr<std::vector<std::string>> CompleteSubtrees(uint64_t level, uint64_t first,
                                                                    uint64_t count) = 0;
  // Calls `visit` for each matching leaf with index >= start, in order, until
  // it returns false or `limit` leaves matched (0: no limit).
  virtual absl::Status ScanAudit(const AuditFilter& filter, uint64_t start, size_t limit,
                                 const std::function<bool(const AuditLeaf&)>& visit) = 0;
  // The committed texts of `leaves` (erased ones included), by leaf then
  // field, from committed data.
  virtual absl::StatusOr<std::vector<AuditText>> ReadAuditTexts(
      const std::vector<uint64_t>& leaves) = 0;
};

// What this gateway, as a witness, last cosigned for a log it follows.
struct WitnessedLog {
  uint64_t tree_size = 0;
  std::string root_hash;  // empty until the first cosignature
};

// Witnessing (docs/federation.md): cosignatures collected on this log's
// checkpoints, and the state this gateway keeps as a witness of its peers'.
// Written outside mailbox transactions: none of it is an audit record.
class WitnessStore {
 public:
  virtual ~WitnessStore() = default;

  // Stores `note`, the checkpoint at `tree_size` with `cosignatures`
  // cosignature lines added (the caller verified them), replacing what was
  // stored for that size; the note as signed stays as it was in the log's
  // checkpoints. NOT_FOUND when no checkpoint of that size is stored.
  virtual absl::Status StoreCosignedCheckpoint(uint64_t tree_size, const std::string& note,
                                               int cosignatures) = 0;
  // The largest checkpoint with a cosignature; nullopt when none has one.
  virtual absl::StatusOr<std::optional<CommitInfo>> LatestCosignedCheckpoint() = 0;

  // What was last cosigned for `origin` (tree_size 0, empty root: never).
  virtual absl::StatusOr<WitnessedLog> GetWitnessedLog(const std::string& origin) = 0;
  // Moves `origin` from `before` (as read) to `after`, atomically: ABORTED
  // when another replica moved it meanwhile, so two replicas never cosign
  // two histories.
  virtual absl::Status UpdateWitnessedLog(const std::string& origin, const WitnessedLog& before,
                                          const WitnessedLog& after) = 0;
};

// Everything the gateway keeps durably: one back-end serves all four parts
// (as Trillian's storage serves its log and admin interfaces), and a service
// takes only the part it uses.
class Store : public MailboxStore, public KeyStore, public AuditLogStore, public WitnessStore {
 public:
  ~Store() override = default;

  // Starts delivering other processes' changes. The embedded store has none
  // (one process), so the default does nothing.
  virtual void SetEventListener(StoreEvents events) { (void)events; }
};

// Opens the store named by `uri`: "sqlite:///abs/path.db" or
// "sqlite://relative/path.db", optionally "?max_pages=N" to cap the database
// size (writes beyond it fail UNAVAILABLE, as on a full disk); or a libpq
// "postgresql://" URI, shared by any number of gateway replicas.
// INVALID_ARGUMENT for an unknown scheme or option.
absl::StatusOr<std::unique_ptr<Store>> OpenStore(const std::string& uri);
// Whether OpenStore could open `uri`, without creating or migrating
// anything: the SQLite file (or its directory) is writable by this user, or
// PostgreSQL accepts the connection. For `safeshare-gateway check`.
absl::Status ProbeStore(const std::string& uri);
// The file of a sqlite:// store, for backup and restore. FAILED_PRECONDITION
// for PostgreSQL, which is backed up with its own tools.
absl::StatusOr<std::string> SqliteStoreFile(const std::string& uri);

// `uri` fit for a log line: no password and no query options (which may name
// credentials).
std::string RedactStoreUri(const std::string& uri);

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_STORE_STORE_H_
