// The PostgreSQL store's mailbox: messages, their state changes and threads.

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gateway/store/mailbox_transaction.h"
#include "gateway/store/message_rules.h"
#include "gateway/store/postgres/postgres_store.h"
#include "gateway/store/store_rows.h"

namespace safeshare::gateway {

using pg::Bytes;
using pg::Micros;
using pg::P;
using pg::Param;
using pg::Run;
using safeshare::v1::MessageState;
using store_rows::FromMicros;
using store_rows::ToMicros;

namespace {

std::string MessageSelect(absl::string_view where, MessageRead read = MessageRead::kMetadata) {
  return absl::StrCat("SELECT ", store_rows::MessageColumns(read), " FROM messages WHERE ", where);
}

}  // namespace

// ---- Reads, on the read connection ----

absl::StatusOr<std::vector<StoredMessage>> PostgresStore::ReadMessages(
    const std::string& sql, const std::vector<std::string>& params, bool with_history) {
  absl::MutexLock lock(&read_mu_);
  if (auto st = pg::Ready(read_); !st.ok()) return st;
  std::vector<Param> ps;
  for (const auto& p : params) ps.push_back(P(p));
  auto r = Run(read_, sql.c_str(), ps, "read messages");
  if (!r.ok()) return r.status();
  std::vector<StoredMessage> out;
  for (int i = 0; i < r->rows(); ++i) out.push_back(store_rows::ReadMessageRow(r->row(i)));
  if (!with_history) return out;
  for (StoredMessage& m : out) {
    auto h =
        Run(read_, "SELECT state, time_us FROM message_events WHERE message_id = $1 ORDER BY id",
            {P(m.message_id)}, "load history");
    if (!h.ok()) return h.status();
    for (int i = 0; i < h->rows(); ++i) {
      m.history.push_back(
          {static_cast<MessageState>(h->row(i).Int(0)), FromMicros(h->row(i).Int(1))});
    }
  }
  return out;
}

absl::StatusOr<StoredMessage> PostgresStore::GetMessage(const std::string& message_id,
                                                        MessageRead read) {
  const std::string sql = MessageSelect("message_id = $1", read);
  auto found = ReadMessages(sql, {message_id}, true);
  if (!found.ok()) return found.status();
  if (found->empty()) return message_rules::NoSuchMessage(message_id);
  return std::move(found->front());
}

absl::StatusOr<std::vector<StoredMessage>> PostgresStore::ListThread(const std::string& root_id,
                                                                     uint64_t after, int limit) {
  static const std::string sql =
      absl::StrCat(MessageSelect("(message_id = $1 OR in_reply_to = $1) AND sequence > $2"),
                   " ORDER BY sequence LIMIT $3");
  return ReadMessages(sql, {root_id, absl::StrCat(after), absl::StrCat(limit)}, true);
}

absl::StatusOr<std::vector<StoredMessage>> PostgresStore::ListHeld(
    const std::vector<std::string>& senders, uint64_t after_sequence, int limit) {
  std::vector<std::string> params = {
      absl::StrCat(static_cast<int>(safeshare::v1::MESSAGE_STATE_HELD)),
      absl::StrCat(after_sequence), absl::StrCat(limit)};
  std::vector<std::string> marks;
  for (const auto& s : senders) {
    params.push_back(s);
    marks.push_back(absl::StrCat("$", params.size()));
  }
  const std::string sql = absl::StrCat(
      MessageSelect("state = $1 AND sequence > $2", MessageRead::kDecision),
      senders.empty() ? "" : absl::StrCat(" AND sender IN (", absl::StrJoin(marks, ","), ")"),
      " ORDER BY sequence LIMIT $3");
  return ReadMessages(sql, params, false);
}

absl::StatusOr<std::vector<MailboxSummary>> PostgresStore::Mailboxes(absl::Time now) {
  absl::MutexLock lock(&read_mu_);
  if (auto st = pg::Ready(read_); !st.ok()) return st;
  auto r =
      Run(read_,
          "SELECT recipient, count(*)::bigint, min(accepted_us)::bigint, "
          "sum(CASE WHEN ack_deadline_us IS NOT NULL AND ack_deadline_us < $1 THEN 1 "
          "ELSE 0 END)::bigint FROM messages WHERE acknowledged_us IS NULL AND state IN "
          "($2, $3, $4) GROUP BY recipient ORDER BY recipient",
          {P(absl::ToUnixMicros(now)), P(static_cast<int>(safeshare::v1::MESSAGE_STATE_SUBMITTED)),
           P(static_cast<int>(safeshare::v1::MESSAGE_STATE_DELIVERED)),
           P(static_cast<int>(safeshare::v1::MESSAGE_STATE_ESCALATED))},
          "summarise mailboxes");
  if (!r.ok()) return r.status();
  std::vector<MailboxSummary> out;
  for (int i = 0; i < r->rows(); ++i) {
    const auto row = r->row(i);
    out.push_back({row.Text(0), static_cast<uint64_t>(row.Int(1)), absl::FromUnixMicros(row.Int(2)),
                   static_cast<uint64_t>(row.Int(3))});
  }
  return out;
}

absl::StatusOr<uint64_t> PostgresStore::SizeBytes() {
  absl::MutexLock lock(&read_mu_);
  if (auto st = pg::Ready(read_); !st.ok()) return st;
  auto r = Run(read_, "SELECT pg_database_size(current_database())::bigint", {}, "database size");
  if (!r.ok()) return r.status();
  return static_cast<uint64_t>(r->row(0).Int(0));
}

absl::StatusOr<std::vector<StoredMessage>> PostgresStore::PendingForRecipient(
    const std::string& recipient, uint64_t after_sequence, int limit) {
  static const std::string sql = absl::StrCat(
      MessageSelect("recipient = $1 AND acknowledged_us IS NULL AND sequence > $2 AND state IN "
                    "($3, $4, $5)",
                    MessageRead::kContent),
      " ORDER BY sequence LIMIT $6");
  return ReadMessages(
      sql,
      {recipient, absl::StrCat(after_sequence),
       absl::StrCat(static_cast<int>(safeshare::v1::MESSAGE_STATE_SUBMITTED)),
       absl::StrCat(static_cast<int>(safeshare::v1::MESSAGE_STATE_DELIVERED)),
       absl::StrCat(static_cast<int>(safeshare::v1::MESSAGE_STATE_ESCALATED)), absl::StrCat(limit)},
      false);
}

// ---- Writes, inside a batch: the SQL under MailboxTransaction ----

// The rows on the write connection; the store's mu_ is held throughout.
class PostgresStore::Messages final : public MessageRows {
 public:
  explicit Messages(PgSession* session) : session_(session) {}

  absl::StatusOr<std::optional<StoredMessage>> Load(const std::string& message_id,
                                                    MessageRead read) override {
    return One(MessageSelect("message_id = $1", read), {P(message_id)}, "load message");
  }

  absl::StatusOr<std::optional<StoredMessage>> LoadForRecipient(
      uint64_t sequence, const std::string& recipient) override {
    static const std::string sql = MessageSelect("sequence = $1 AND recipient = $2");
    return One(sql, {P(sequence), P(recipient)}, "mark delivered");
  }

  absl::Status Insert(const StoredMessage& m, std::optional<absl::Time> open_deadline) override {
    return Exec(
        "INSERT INTO messages (message_id, sender, recipient, kind, signed_envelope, "
        "envelope_sha256, receipt, state, accepted_us, urgency, ack_deadline_us, "
        "retention_us, in_reply_to, declaration, open_deadline_us) VALUES ($1, $2, $3, "
        "$4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        {P(m.message_id), P(m.sender_agency_id), P(m.recipient_agency_id),
         P(static_cast<int>(m.kind)), Bytes(m.signed_envelope), Bytes(m.envelope_sha256),
         Bytes(m.receipt), P(static_cast<int>(m.state)), P(ToMicros(m.accepted_time)),
         P(static_cast<int>(m.urgency)), Micros(m.acknowledge_deadline),
         P(absl::ToInt64Microseconds(m.retention)), P(m.in_reply_to), Bytes(m.declaration),
         Micros(open_deadline)},
        "insert message");
  }

  absl::StatusOr<uint64_t> MailboxBytes(const std::string& recipient) override {
    auto r = Run(*session_, "SELECT bytes FROM mailbox_usage WHERE recipient = $1", {P(recipient)},
                 "mailbox usage");
    if (!r.ok()) return r.status();
    if (r->rows() == 0) return uint64_t{0};
    return static_cast<uint64_t>(r->row(0).Int(0));
  }

  absl::StatusOr<MailboxRoom> Room(const std::string& recipient,
                                   const std::string& message_id) override {
    // The usage is the last column; an absent message leaves the others NULL.
    static const std::string sql =
        absl::StrCat("SELECT ", store_rows::MessageColumns(MessageRead::kDecision),
                     ", COALESCE((SELECT bytes FROM mailbox_usage WHERE recipient = $1), 0)::int8 "
                     "FROM (SELECT 1) AS one LEFT JOIN messages ON message_id = $2");
    auto r = Run(*session_, sql, {P(recipient), P(message_id)}, "mailbox usage");
    if (!r.ok()) return r.status();
    if (r->rows() != 1) return absl::InternalError("mailbox usage: expected one row");
    MailboxRoom room;
    room.held_bytes = static_cast<uint64_t>(r->row(0).Int(store_rows::kMessageColumnCount));
    if (!r->row(0).IsNull(1)) room.stored = store_rows::ReadMessageRow(r->row(0));
    return room;
  }

  absl::StatusOr<uint64_t> CountReplies(const std::string& root_id,
                                        const std::string& except_id) override {
    auto r = Run(*session_,
                 "SELECT count(*) FROM messages WHERE in_reply_to = $1 AND in_reply_to <> '' "
                 "AND message_id <> $2",
                 {P(root_id), P(except_id)}, "count replies");
    if (!r.ok()) return r.status();
    return static_cast<uint64_t>(r->row(0).Int(0));
  }

  absl::Status AddEvent(const std::string& message_id, MessageState state, absl::Time t) override {
    return Exec("INSERT INTO message_events (message_id, state, time_us) VALUES ($1, $2, $3)",
                {P(message_id), P(static_cast<int>(state)), P(ToMicros(t))}, "record state change");
  }

  // Delivered with the commit, to every replica's listener.
  absl::Status NotifyMail(const std::string& recipient) override {
    return Exec("SELECT pg_notify($1, $2)", {P(pg::kMailChannel), P(recipient)}, "notify");
  }

  absl::Status SetAnswered(uint64_t sequence, MessageState state, absl::Time now) override {
    return Exec(
        "UPDATE messages SET answered_us = COALESCE(answered_us, $1), "
        "acknowledged_us = COALESCE(acknowledged_us, $1), open_deadline_us = NULL, "
        "state = $2 WHERE sequence = $3",
        {P(ToMicros(now)), P(static_cast<int>(state)), P(sequence)}, "record answer");
  }

  absl::Status SetAcknowledged(uint64_t sequence, absl::Time now) override {
    return Exec(
        "UPDATE messages SET acknowledged_us = $1, state = $2, open_deadline_us = CASE "
        "WHEN kind = $3 THEN open_deadline_us ELSE NULL END WHERE sequence = $4",
        {P(ToMicros(now)), P(static_cast<int>(safeshare::v1::MESSAGE_STATE_ACKNOWLEDGED)),
         P(static_cast<int>(safeshare::v1::MESSAGE_KIND_INFORMATION_REQUEST)), P(sequence)},
        "acknowledge");
  }

  absl::Status SetContentRefused(uint64_t sequence, safeshare::v1::ContentRefusalReason reason,
                                 const std::string& detail, absl::Time now) override {
    return Exec(
        "UPDATE messages SET acknowledged_us = $1, state = $2, refusal_reason = $3, "
        "refusal_detail = $4, open_deadline_us = NULL WHERE sequence = $5",
        {P(ToMicros(now)), P(static_cast<int>(safeshare::v1::MESSAGE_STATE_CONTENT_REFUSED)),
         P(static_cast<int>(reason)), P(detail), P(sequence)},
        "refuse content");
  }

  absl::StatusOr<uint64_t> SetApproved(uint64_t sequence, absl::Time deadline) override {
    auto r = Run(*session_,
                 "UPDATE messages SET sequence = nextval(pg_get_serial_sequence('messages', "
                 "'sequence')), state = $1, ack_deadline_us = $2, open_deadline_us = $2 "
                 "WHERE sequence = $3 RETURNING sequence",
                 {P(static_cast<int>(safeshare::v1::MESSAGE_STATE_SUBMITTED)),
                  P(ToMicros(deadline)), P(sequence)},
                 "resolve held");
    if (!r.ok()) return r.status();
    if (r->rows() != 1) return absl::InternalError("resolve held: the held message vanished");
    return static_cast<uint64_t>(r->row(0).Int(0));
  }

  absl::Status SetRefused(uint64_t sequence) override {
    return Exec(
        "UPDATE messages SET state = $1, signed_envelope = '', open_deadline_us = NULL "
        "WHERE sequence = $2",
        {P(static_cast<int>(safeshare::v1::MESSAGE_STATE_REFUSED)), P(sequence)}, "resolve held");
  }

  absl::Status SetFirstDelivered(uint64_t sequence, absl::Time now) override {
    return Exec(
        "UPDATE messages SET first_delivered_us = $1, state = CASE WHEN state = $2 "
        "THEN $3 ELSE state END WHERE sequence = $4 AND first_delivered_us IS NULL",
        {P(ToMicros(now)), P(static_cast<int>(safeshare::v1::MESSAGE_STATE_SUBMITTED)),
         P(static_cast<int>(safeshare::v1::MESSAGE_STATE_DELIVERED)), P(sequence)},
        "mark delivered");
  }

  absl::Status SetEscalated(uint64_t sequence, MessageState state, absl::Time now) override {
    return Exec(
        "UPDATE messages SET escalated_us = $1, state = $2, open_deadline_us = NULL "
        "WHERE sequence = $3",
        {P(ToMicros(now)), P(static_cast<int>(state)), P(sequence)}, "escalate");
  }

  absl::Status SetTextCopies(uint64_t sequence, const std::string& declaration,
                             const std::string& refusal_detail) override {
    return Exec("UPDATE messages SET declaration = $1, refusal_detail = $2 WHERE sequence = $3",
                {Bytes(declaration), P(refusal_detail), P(sequence)}, "change text");
  }

  absl::Status SetReceipt(uint64_t sequence, const std::string& receipt) override {
    return Exec("UPDATE messages SET receipt = $1 WHERE sequence = $2",
                {Bytes(receipt), P(sequence)}, "set receipt");
  }

  absl::Status SetPurged(uint64_t sequence) override {
    return Exec("UPDATE messages SET signed_envelope = '', state = $1 WHERE sequence = $2",
                {P(static_cast<int>(safeshare::v1::MESSAGE_STATE_EXPIRED)), P(sequence)}, "purge");
  }

  absl::StatusOr<std::vector<StoredMessage>> FindOverdue(absl::Time now, int limit) override {
    static const std::string sql =
        absl::StrCat(MessageSelect("open_deadline_us IS NOT NULL AND open_deadline_us < $1"),
                     " ORDER BY open_deadline_us LIMIT $2");
    return All(sql, {P(ToMicros(now)), P(limit)}, "find overdue");
  }

  absl::StatusOr<std::vector<StoredMessage>> FindExpired(absl::Time now, int limit) override {
    static const std::string sql = absl::StrCat(
        MessageSelect("state IN ($1, $2, $3, $4, $7) AND retention_us > 0 AND "
                      "length(signed_envelope) > 0 AND acknowledged_us + retention_us < $5"),
        " ORDER BY acknowledged_us + retention_us LIMIT $6");
    return All(sql,
               {P(static_cast<int>(safeshare::v1::MESSAGE_STATE_ACKNOWLEDGED)),
                P(static_cast<int>(safeshare::v1::MESSAGE_STATE_ANSWERED)),
                P(static_cast<int>(safeshare::v1::MESSAGE_STATE_OUTCOME_RECEIVED)),
                P(static_cast<int>(safeshare::v1::MESSAGE_STATE_ESCALATED)), P(ToMicros(now)),
                P(limit), P(static_cast<int>(safeshare::v1::MESSAGE_STATE_CONTENT_REFUSED))},
               "find expired");
  }

 private:
  // Pipelined: its error, if any, comes with the next read or the job's end.
  absl::Status Exec(const char* sql, const std::vector<Param>& params, const char* what) {
    return pg::Queue(*session_, sql, params, what);
  }
  absl::StatusOr<std::optional<StoredMessage>> One(const std::string& sql,
                                                   const std::vector<Param>& params,
                                                   const char* what) {
    auto r = Run(*session_, sql, params, what);
    if (!r.ok()) return r.status();
    if (r->rows() == 0) return std::optional<StoredMessage>();
    return std::optional<StoredMessage>(store_rows::ReadMessageRow(r->row(0)));
  }
  absl::StatusOr<std::vector<StoredMessage>> All(const std::string& sql,
                                                 const std::vector<Param>& params,
                                                 const char* what) {
    auto r = Run(*session_, sql, params, what);
    if (!r.ok()) return r.status();
    std::vector<StoredMessage> out;
    for (int i = 0; i < r->rows(); ++i) out.push_back(store_rows::ReadMessageRow(r->row(i)));
    return out;
  }

  PgSession* session_;
};

std::unique_ptr<MessageRows> PostgresStore::MessageRowsLocked() {
  return std::make_unique<Messages>(&write_);
}

}  // namespace safeshare::gateway
