// The embedded store's mailbox: messages, their state changes and threads.

#include <sqlite3.h>

#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gateway/store/mailbox_transaction.h"
#include "gateway/store/message_rules.h"
#include "gateway/store/sqlite/connection.h"
#include "gateway/store/sqlite/sqlite_store.h"
#include "gateway/store/store_rows.h"

namespace safeshare::gateway {

using safeshare::v1::MessageState;
using sqlite_db::SqliteError;
using sqlite_db::Statement;
using store_rows::FromMicros;
using store_rows::ToMicros;

// kFindHeld's literal state is the one in messages_held's WHERE.
static_assert(safeshare::v1::MESSAGE_STATE_HELD == 2);

const char SqliteStore::kFindHeld[] = "FROM messages WHERE state = 2 AND sequence > ?";
const char SqliteStore::kFindExpired[] =
    "FROM messages WHERE retention_us > 0 AND length(signed_envelope) > 0 "
    "AND acknowledged_us + retention_us < ? AND state IN (?, ?, ?, ?, ?) "
    "ORDER BY acknowledged_us + retention_us LIMIT ?";

namespace {

// Every row `s` yields, or the error that stopped it.
absl::StatusOr<std::vector<StoredMessage>> ReadAll(sqlite3* db, Statement& s, const char* what) {
  std::vector<StoredMessage> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back(store_rows::ReadMessageRow(s));
  if (rc != SQLITE_DONE) return SqliteError(db, rc, what);
  return out;
}

}  // namespace

// ---- Reads, on the read connection ----

absl::StatusOr<std::vector<StoredMessage>> SqliteStore::PendingForRecipient(
    const std::string& recipient, uint64_t after_sequence, int limit) {
  absl::MutexLock lock(&read_mu_);
  std::string sql = absl::StrCat(
      "SELECT ", store_rows::MessageColumns(MessageRead::kContent),
      " FROM messages WHERE recipient = ? AND acknowledged_us IS NULL AND sequence > ? "
      "AND state IN (?, ?, ?) ORDER BY sequence LIMIT ?");
  Statement s(read_db_, sql.c_str());
  if (auto st = s.status("read mailbox"); !st.ok()) return st;
  s.Bind(1, recipient);
  s.Bind(2, static_cast<int64_t>(after_sequence));
  s.Bind(3, static_cast<int64_t>(safeshare::v1::MESSAGE_STATE_SUBMITTED));
  s.Bind(4, static_cast<int64_t>(safeshare::v1::MESSAGE_STATE_DELIVERED));
  s.Bind(5, static_cast<int64_t>(safeshare::v1::MESSAGE_STATE_ESCALATED));
  s.Bind(6, limit);
  return ReadAll(read_db_, s, "read mailbox");
}

absl::StatusOr<std::vector<MailboxSummary>> SqliteStore::Mailboxes(absl::Time now) {
  absl::MutexLock lock(&read_mu_);
  Statement s(read_db_,
              "SELECT recipient, count(*), min(accepted_us), "
              "sum(CASE WHEN ack_deadline_us IS NOT NULL AND ack_deadline_us < ? THEN 1 ELSE 0 "
              "END) FROM messages WHERE acknowledged_us IS NULL AND state IN (?, ?, ?) "
              "GROUP BY recipient ORDER BY recipient");
  if (auto st = s.status("summarise mailboxes"); !st.ok()) return st;
  s.Bind(1, absl::ToUnixMicros(now));
  s.Bind(2, static_cast<int64_t>(safeshare::v1::MESSAGE_STATE_SUBMITTED));
  s.Bind(3, static_cast<int64_t>(safeshare::v1::MESSAGE_STATE_DELIVERED));
  s.Bind(4, static_cast<int64_t>(safeshare::v1::MESSAGE_STATE_ESCALATED));
  std::vector<MailboxSummary> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    out.push_back({s.Text(0), static_cast<uint64_t>(s.Int(1)), absl::FromUnixMicros(s.Int(2)),
                   static_cast<uint64_t>(s.Int(3))});
  }
  if (rc != SQLITE_DONE) return SqliteError(read_db_, rc, "summarise mailboxes");
  return out;
}

absl::StatusOr<uint64_t> SqliteStore::SizeBytes() {
  int64_t pages = 0, page_size = 0;
  {
    absl::MutexLock lock(&read_mu_);
    Statement count(read_db_, "PRAGMA page_count");
    if (count.Step() != SQLITE_ROW) return SqliteError(read_db_, SQLITE_ERROR, "page count");
    pages = count.Int(0);
    Statement size(read_db_, "PRAGMA page_size");
    if (size.Step() != SQLITE_ROW) return SqliteError(read_db_, SQLITE_ERROR, "page size");
    page_size = size.Int(0);
  }
  std::error_code ec;
  const auto wal = std::filesystem::file_size(path_ + "-wal", ec);
  return static_cast<uint64_t>(pages * page_size) + (ec ? 0 : static_cast<uint64_t>(wal));
}

absl::StatusOr<std::vector<StoredMessage>> SqliteStore::ListHeld(
    const std::vector<std::string>& senders, uint64_t after_sequence, int limit) {
  absl::MutexLock lock(&read_mu_);
  std::vector<std::string> marks(senders.size(), "?");
  std::string sql = absl::StrCat(
      "SELECT ", store_rows::MessageColumns(MessageRead::kDecision), " ", kFindHeld,
      senders.empty() ? "" : absl::StrCat(" AND sender IN (", absl::StrJoin(marks, ","), ")"),
      " ORDER BY sequence LIMIT ?");
  Statement s(read_db_, sql.c_str());
  if (auto st = s.status("list held"); !st.ok()) return st;
  int i = 1;
  s.Bind(i++, static_cast<int64_t>(after_sequence));
  for (const auto& sender : senders) s.Bind(i++, sender);
  s.Bind(i++, limit);
  return ReadAll(read_db_, s, "list held");
}

absl::StatusOr<std::vector<StoredMessage>> SqliteStore::ReadMessagesWithHistory(
    const char* where, const std::string& id, MessageRead read, uint64_t after, int limit) {
  absl::MutexLock lock(&read_mu_);
  std::string sql =
      absl::StrCat("SELECT ", store_rows::MessageColumns(read), " FROM messages WHERE (", where,
                   ") AND sequence > ?2 ORDER BY sequence LIMIT ?3");
  std::vector<StoredMessage> out;
  {
    Statement s(read_db_, sql.c_str());
    if (auto st = s.status("load message"); !st.ok()) return st;
    s.Bind(1, id);
    s.Bind(2, static_cast<int64_t>(after));
    s.Bind(3, limit);
    int rc;
    while ((rc = s.Step()) == SQLITE_ROW) out.push_back(store_rows::ReadMessageRow(s));
    if (rc != SQLITE_DONE) return SqliteError(read_db_, rc, "load message");
  }
  for (StoredMessage& m : out) {
    Statement h(read_db_,
                "SELECT state, time_us FROM message_events WHERE message_id = ? ORDER BY id");
    if (auto st = h.status("load history"); !st.ok()) return st;
    h.Bind(1, m.message_id);
    int rc;
    while ((rc = h.Step()) == SQLITE_ROW) {
      m.history.push_back({static_cast<MessageState>(h.Int(0)), FromMicros(h.Int(1))});
    }
    if (rc != SQLITE_DONE) return SqliteError(read_db_, rc, "load history");
  }
  return out;
}

absl::StatusOr<StoredMessage> SqliteStore::GetMessage(const std::string& message_id,
                                                      MessageRead read) {
  auto found = ReadMessagesWithHistory("message_id = ?1", message_id, read, 0, 1);
  if (!found.ok()) return found.status();
  if (found->empty()) return message_rules::NoSuchMessage(message_id);
  return std::move(found->front());
}

absl::StatusOr<std::vector<StoredMessage>> SqliteStore::ListThread(const std::string& root_id,
                                                                   uint64_t after, int limit) {
  return ReadMessagesWithHistory("message_id = ?1 OR in_reply_to = ?1", root_id,
                                 MessageRead::kMetadata, after, limit);
}

// ---- Writes, inside a batch: the SQL under MailboxTransaction ----

// The rows on the write connection; the store's mu_ is held throughout.
class SqliteStore::Messages final : public MessageRows {
 public:
  explicit Messages(SqliteStore* store) : s_(store) {}

  absl::StatusOr<std::optional<StoredMessage>> Load(const std::string& message_id,
                                                    MessageRead read) override {
    const std::string sql = absl::StrCat("SELECT ", store_rows::MessageColumns(read),
                                         " FROM messages WHERE message_id = ?");
    Statement s(db(), Cached(sql));
    if (auto st = s.status("load message"); !st.ok()) return st;
    s.Bind(1, message_id);
    return One(s, "load message");
  }

  absl::StatusOr<std::optional<StoredMessage>> LoadForRecipient(
      uint64_t sequence, const std::string& recipient) override {
    static const std::string sql =
        absl::StrCat("SELECT ", store_rows::MessageColumns(MessageRead::kMetadata),
                     " FROM messages WHERE sequence = ? AND recipient = ?");
    Statement s(db(), Cached(sql));
    if (auto st = s.status("mark delivered"); !st.ok()) return st;
    s.Bind(1, static_cast<int64_t>(sequence));
    s.Bind(2, recipient);
    return One(s, "mark delivered");
  }

  absl::Status Insert(const StoredMessage& m, std::optional<absl::Time> open_deadline) override {
    Statement s(db(),
                Cached("INSERT INTO messages (message_id, sender, recipient, kind, "
                       "signed_envelope, envelope_sha256, receipt, state, accepted_us, urgency, "
                       "ack_deadline_us, retention_us, in_reply_to, declaration, "
                       "open_deadline_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    if (auto st = s.status("insert message"); !st.ok()) return st;
    s.Bind(1, m.message_id);
    s.Bind(2, m.sender_agency_id);
    s.Bind(3, m.recipient_agency_id);
    s.Bind(4, static_cast<int64_t>(m.kind));
    s.BindBlob(5, m.signed_envelope);
    s.BindBlob(6, m.envelope_sha256);
    s.BindBlob(7, m.receipt);
    s.Bind(8, static_cast<int64_t>(m.state));
    s.Bind(9, ToMicros(m.accepted_time));
    s.Bind(10, static_cast<int64_t>(m.urgency));
    BindTime(s, 11, m.acknowledge_deadline);
    s.Bind(12, absl::ToInt64Microseconds(m.retention));
    s.Bind(13, m.in_reply_to);
    s.BindBlob(14, m.declaration);
    BindTime(s, 15, open_deadline);
    if (int rc = s.Step(); rc != SQLITE_DONE) return SqliteError(db(), rc, "insert message");
    return absl::OkStatus();
  }

  absl::StatusOr<uint64_t> MailboxBytes(const std::string& recipient) override {
    Statement s(db(), Cached("SELECT bytes FROM mailbox_usage WHERE recipient = ?"));
    if (auto st = s.status("mailbox usage"); !st.ok()) return st;
    s.Bind(1, recipient);
    const int rc = s.Step();
    if (rc == SQLITE_DONE) return uint64_t{0};
    if (rc != SQLITE_ROW) return SqliteError(db(), rc, "mailbox usage");
    return static_cast<uint64_t>(s.Int(0));
  }

  absl::StatusOr<uint64_t> CountReplies(const std::string& root_id,
                                        const std::string& except_id) override {
    // "in_reply_to <> ''" lets SQLite use the partial index messages_by_reply.
    Statement s(db(), Cached("SELECT count(*) FROM messages WHERE in_reply_to = ? "
                             "AND in_reply_to <> '' AND message_id <> ?"));
    if (auto st = s.status("count replies"); !st.ok()) return st;
    s.Bind(1, root_id);
    s.Bind(2, except_id);
    if (int rc = s.Step(); rc != SQLITE_ROW) return SqliteError(db(), rc, "count replies");
    return static_cast<uint64_t>(s.Int(0));
  }

  absl::Status AddEvent(const std::string& message_id, MessageState state, absl::Time t) override {
    Statement s(db(), Cached("INSERT INTO message_events (message_id, state, time_us) "
                             "VALUES (?, ?, ?)"));
    if (auto st = s.status("record state change"); !st.ok()) return st;
    s.Bind(1, message_id);
    s.Bind(2, static_cast<int64_t>(state));
    s.Bind(3, ToMicros(t));
    return Done(s, "record state change");
  }

  absl::Status NotifyMail(const std::string&) override { return absl::OkStatus(); }

  absl::Status SetAnswered(uint64_t sequence, MessageState state, absl::Time now) override {
    Statement u(db(), Cached("UPDATE messages SET answered_us = COALESCE(answered_us, ?), "
                             "acknowledged_us = COALESCE(acknowledged_us, ?), "
                             "open_deadline_us = NULL, state = ? WHERE sequence = ?"));
    if (auto st = u.status("record answer"); !st.ok()) return st;
    u.Bind(1, ToMicros(now));
    u.Bind(2, ToMicros(now));
    u.Bind(3, static_cast<int64_t>(state));
    u.Bind(4, static_cast<int64_t>(sequence));
    return Done(u, "record answer");
  }

  absl::Status SetAcknowledged(uint64_t sequence, absl::Time now) override {
    Statement u(db(), Cached("UPDATE messages SET acknowledged_us = ?, state = ?, "
                             "open_deadline_us = CASE WHEN kind = ? THEN open_deadline_us "
                             "ELSE NULL END WHERE sequence = ?"));
    if (auto st = u.status("acknowledge"); !st.ok()) return st;
    u.Bind(1, ToMicros(now));
    u.Bind(2, static_cast<int64_t>(safeshare::v1::MESSAGE_STATE_ACKNOWLEDGED));
    u.Bind(3, static_cast<int64_t>(safeshare::v1::MESSAGE_KIND_INFORMATION_REQUEST));
    u.Bind(4, static_cast<int64_t>(sequence));
    return Done(u, "acknowledge");
  }

  absl::Status SetContentRefused(uint64_t sequence, safeshare::v1::ContentRefusalReason reason,
                                 const std::string& detail, absl::Time now) override {
    Statement u(db(),
                "UPDATE messages SET acknowledged_us = ?, state = ?, refusal_reason = ?, "
                "refusal_detail = ?, open_deadline_us = NULL WHERE sequence = ?");
    if (auto st = u.status("refuse content"); !st.ok()) return st;
    u.Bind(1, ToMicros(now));
    u.Bind(2, static_cast<int64_t>(safeshare::v1::MESSAGE_STATE_CONTENT_REFUSED));
    u.Bind(3, static_cast<int64_t>(reason));
    u.Bind(4, detail);
    u.Bind(5, static_cast<int64_t>(sequence));
    return Done(u, "refuse content");
  }

  absl::StatusOr<uint64_t> SetApproved(uint64_t sequence, absl::Time deadline) override {
    // AUTOINCREMENT's counter moves first, so no later insert reuses the
    // number the approved message takes.
    Statement next(db(),
                   "UPDATE sqlite_sequence SET seq = max(seq, (SELECT max(sequence) FROM "
                   "messages)) + 1 WHERE name = 'messages' RETURNING seq");
    if (auto st = next.status("resolve held"); !st.ok()) return st;
    if (int rc = next.Step(); rc != SQLITE_ROW) return SqliteError(db(), rc, "resolve held");
    const int64_t new_sequence = next.Int(0);
    if (int rc = next.Step(); rc != SQLITE_DONE) return SqliteError(db(), rc, "resolve held");
    Statement u(db(),
                "UPDATE messages SET sequence = ?4, state = ?1, ack_deadline_us = ?2, "
                "open_deadline_us = ?2 WHERE sequence = ?3");
    if (auto st = u.status("resolve held"); !st.ok()) return st;
    u.Bind(1, static_cast<int64_t>(safeshare::v1::MESSAGE_STATE_SUBMITTED));
    u.Bind(2, ToMicros(deadline));
    u.Bind(3, static_cast<int64_t>(sequence));
    u.Bind(4, new_sequence);
    if (auto st = Done(u, "resolve held"); !st.ok()) return st;
    return static_cast<uint64_t>(new_sequence);
  }

  absl::Status SetRefused(uint64_t sequence) override {
    Statement u(db(),
                "UPDATE messages SET state = ?, signed_envelope = x'', "
                "open_deadline_us = NULL WHERE sequence = ?");
    if (auto st = u.status("resolve held"); !st.ok()) return st;
    u.Bind(1, static_cast<int64_t>(safeshare::v1::MESSAGE_STATE_REFUSED));
    u.Bind(2, static_cast<int64_t>(sequence));
    return Done(u, "resolve held");
  }

  absl::Status SetFirstDelivered(uint64_t sequence, absl::Time now) override {
    Statement u(db(),
                Cached("UPDATE messages SET first_delivered_us = ?, state = CASE WHEN state = ? "
                       "THEN ? ELSE state END WHERE sequence = ? AND first_delivered_us IS NULL"));
    if (auto st = u.status("mark delivered"); !st.ok()) return st;
    u.Bind(1, ToMicros(now));
    u.Bind(2, static_cast<int64_t>(safeshare::v1::MESSAGE_STATE_SUBMITTED));
    u.Bind(3, static_cast<int64_t>(safeshare::v1::MESSAGE_STATE_DELIVERED));
    u.Bind(4, static_cast<int64_t>(sequence));
    return Done(u, "mark delivered");
  }

  absl::Status SetEscalated(uint64_t sequence, MessageState state, absl::Time now) override {
    Statement u(db(), Cached("UPDATE messages SET escalated_us = ?, state = ?, "
                             "open_deadline_us = NULL WHERE sequence = ?"));
    if (auto st = u.status("escalate"); !st.ok()) return st;
    u.Bind(1, ToMicros(now));
    u.Bind(2, static_cast<int64_t>(state));
    u.Bind(3, static_cast<int64_t>(sequence));
    return Done(u, "escalate");
  }

  absl::Status SetTextCopies(uint64_t sequence, const std::string& declaration,
                             const std::string& refusal_detail) override {
    Statement u(db(), "UPDATE messages SET declaration = ?, refusal_detail = ? WHERE sequence = ?");
    if (auto st = u.status("change text"); !st.ok()) return st;
    u.BindBlob(1, declaration);
    u.Bind(2, refusal_detail);
    u.Bind(3, static_cast<int64_t>(sequence));
    return Done(u, "change text");
  }

  absl::Status SetReceipt(uint64_t sequence, const std::string& receipt) override {
    Statement u(db(), "UPDATE messages SET receipt = ? WHERE sequence = ?");
    if (auto st = u.status("set receipt"); !st.ok()) return st;
    u.BindBlob(1, receipt);
    u.Bind(2, static_cast<int64_t>(sequence));
    return Done(u, "set receipt");
  }

  absl::Status SetPurged(uint64_t sequence) override {
    Statement u(db(), "UPDATE messages SET signed_envelope = x'', state = ? WHERE sequence = ?");
    if (auto st = u.status("purge"); !st.ok()) return st;
    u.Bind(1, static_cast<int64_t>(safeshare::v1::MESSAGE_STATE_EXPIRED));
    u.Bind(2, static_cast<int64_t>(sequence));
    return Done(u, "purge");
  }

  absl::StatusOr<std::vector<StoredMessage>> FindOverdue(absl::Time now, int limit) override {
    static const std::string sql =
        absl::StrCat("SELECT ", store_rows::MessageColumns(MessageRead::kMetadata),
                     " FROM messages WHERE open_deadline_us IS NOT NULL AND open_deadline_us < ? "
                     "ORDER BY open_deadline_us LIMIT ?");
    Statement s(db(), Cached(sql));
    if (auto st = s.status("find overdue"); !st.ok()) return st;
    s.Bind(1, ToMicros(now));
    s.Bind(2, limit);
    return ReadAll(db(), s, "find overdue");
  }

  absl::StatusOr<std::vector<StoredMessage>> FindExpired(absl::Time now, int limit) override {
    std::string sql = absl::StrCat("SELECT ", store_rows::MessageColumns(MessageRead::kMetadata),
                                   " ", kFindExpired);
    Statement s(db(), sql.c_str());
    if (auto st = s.status("find expired"); !st.ok()) return st;
    s.Bind(1, ToMicros(now));
    s.Bind(2, static_cast<int64_t>(safeshare::v1::MESSAGE_STATE_ACKNOWLEDGED));
    s.Bind(3, static_cast<int64_t>(safeshare::v1::MESSAGE_STATE_ANSWERED));
    s.Bind(4, static_cast<int64_t>(safeshare::v1::MESSAGE_STATE_OUTCOME_RECEIVED));
    s.Bind(5, static_cast<int64_t>(safeshare::v1::MESSAGE_STATE_ESCALATED));
    s.Bind(6, static_cast<int64_t>(safeshare::v1::MESSAGE_STATE_CONTENT_REFUSED));
    s.Bind(7, limit);
    return ReadAll(db(), s, "find expired");
  }

 private:
  sqlite3* db() ABSL_NO_THREAD_SAFETY_ANALYSIS { return s_->db_; }
  sqlite3_stmt* Cached(const std::string& sql) ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return s_->CachedLocked(sql);
  }
  static void BindTime(Statement& s, int i, const std::optional<absl::Time>& t) {
    if (t) {
      s.Bind(i, ToMicros(*t));
    } else {
      s.BindNull(i);
    }
  }
  // Steps a statement without results.
  absl::Status Done(Statement& s, const char* what) {
    int rc = s.Step();
    return rc == SQLITE_DONE ? absl::OkStatus() : SqliteError(db(), rc, what);
  }
  // The one row a lookup finds, if any.
  absl::StatusOr<std::optional<StoredMessage>> One(Statement& s, const char* what) {
    int rc = s.Step();
    if (rc == SQLITE_DONE) return std::optional<StoredMessage>();
    if (rc != SQLITE_ROW) return SqliteError(db(), rc, what);
    return std::optional<StoredMessage>(store_rows::ReadMessageRow(s));
  }

  SqliteStore* s_;
};

std::unique_ptr<MessageRows> SqliteStore::MessageRowsLocked() {
  return std::make_unique<Messages>(this);
}

}  // namespace safeshare::gateway
