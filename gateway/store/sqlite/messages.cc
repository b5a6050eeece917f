// The embedded store's mailbox: messages, their state changes and threads.

#include <sqlite3.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
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
    "AND acknowledged_us + retention_us < ? AND state IN (?, ?, ?, ?) "
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
      "SELECT ", store_rows::kMessageColumns,
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

absl::StatusOr<std::vector<StoredMessage>> SqliteStore::ListHeld(
    const std::vector<std::string>& senders, uint64_t after_sequence, int limit) {
  absl::MutexLock lock(&read_mu_);
  std::vector<std::string> marks(senders.size(), "?");
  std::string sql = absl::StrCat(
      "SELECT ", store_rows::kMessageColumns, " ", kFindHeld,
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
    const char* where, const std::string& id) {
  absl::MutexLock lock(&read_mu_);
  std::string sql = absl::StrCat("SELECT ", store_rows::kMessageColumns, " FROM messages WHERE ",
                                 where, " ORDER BY sequence");
  std::vector<StoredMessage> out;
  {
    Statement s(read_db_, sql.c_str());
    if (auto st = s.status("load message"); !st.ok()) return st;
    s.Bind(1, id);
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

absl::StatusOr<StoredMessage> SqliteStore::GetMessage(const std::string& message_id) {
  auto found = ReadMessagesWithHistory("message_id = ?", message_id);
  if (!found.ok()) return found.status();
  if (found->empty()) return absl::NotFoundError(absl::StrCat("no message with id ", message_id));
  return std::move(found->front());
}

absl::StatusOr<std::vector<StoredMessage>> SqliteStore::ListThread(const std::string& root_id) {
  return ReadMessagesWithHistory("message_id = ?1 OR in_reply_to = ?1", root_id);
}

// ---- Writes, inside a batch ----

absl::StatusOr<std::optional<StoredMessage>> SqliteStore::LoadLocked(
    const std::string& message_id) {
  static const std::string sql =
      absl::StrCat("SELECT ", store_rows::kMessageColumns, " FROM messages WHERE message_id = ?");
  Statement s(db_, CachedLocked(sql));
  if (auto st = s.status("load message"); !st.ok()) return st;
  s.Bind(1, message_id);
  int rc = s.Step();
  if (rc == SQLITE_DONE) return std::optional<StoredMessage>();
  if (rc != SQLITE_ROW) return SqliteError(db_, rc, "load message");
  return std::optional<StoredMessage>(store_rows::ReadMessageRow(s));
}

absl::Status SqliteStore::AddEventLocked(const std::string& message_id, MessageState state,
                                         absl::Time t) {
  Statement s(db_, CachedLocked(
                       "INSERT INTO message_events (message_id, state, time_us) VALUES (?, ?, ?)"));
  if (auto st = s.status("record state change"); !st.ok()) return st;
  s.Bind(1, message_id);
  s.Bind(2, static_cast<int64_t>(state));
  s.Bind(3, ToMicros(t));
  int rc = s.Step();
  return rc == SQLITE_DONE ? absl::OkStatus() : SqliteError(db_, rc, "record state change");
}

absl::StatusOr<InsertResult> SqliteStore::InsertMessageTx(const StoredMessage& m) {
  {
    auto existing = LoadLocked(m.message_id);
    if (!existing.ok()) return existing.status();
    if (existing->has_value()) return InsertResult{false, std::move(**existing)};

    Statement s(db_, CachedLocked(
                         "INSERT INTO messages (message_id, sender, recipient, kind, "
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
    if (m.acknowledge_deadline) {
      s.Bind(11, ToMicros(*m.acknowledge_deadline));
    } else {
      s.BindNull(11);
    }
    s.Bind(12, absl::ToInt64Microseconds(m.retention));
    s.Bind(13, m.in_reply_to);
    s.BindBlob(14, m.declaration);
    if (message_rules::OpensDeadline(m)) {
      s.Bind(15, ToMicros(*m.acknowledge_deadline));
    } else {
      s.BindNull(15);
    }
    int rc = s.Step();
    if (rc != SQLITE_DONE) return SqliteError(db_, rc, "insert message");
    InsertResult result{true, m};
    result.message.sequence = static_cast<uint64_t>(sqlite3_last_insert_rowid(db_));
    if (auto st = AddEventLocked(m.message_id, m.state, m.accepted_time); !st.ok()) return st;
    if (m.state == safeshare::v1::MESSAGE_STATE_SUBMITTED && !m.in_reply_to.empty()) {
      if (auto st = AnswerLocked(m.in_reply_to, m.accepted_time); !st.ok()) return st;
    }
    return result;
  }
}

absl::Status SqliteStore::AnswerLocked(const std::string& answered_id, absl::Time now) {
  auto loaded = LoadLocked(answered_id);
  if (!loaded.ok()) return loaded.status();
  if (auto st = message_rules::AnsweredIsStored(*loaded, answered_id); !st.ok()) return st;
  const StoredMessage& m = **loaded;
  // Answering is acknowledging; a thread's later replies change nothing more.
  const bool waiting = store_rows::AwaitsAnswer(m.state);
  const MessageState next = store_rows::AnsweredState(m.kind);
  Statement u(
      db_, CachedLocked("UPDATE messages SET answered_us = COALESCE(answered_us, ?), "
                        "acknowledged_us = COALESCE(acknowledged_us, ?), open_deadline_us = NULL, "
                        "state = ? WHERE sequence = ?"));
  if (auto st = u.status("record answer"); !st.ok()) return st;
  u.Bind(1, ToMicros(now));
  u.Bind(2, ToMicros(now));
  u.Bind(3, static_cast<int64_t>(waiting ? next : m.state));
  u.Bind(4, static_cast<int64_t>(m.sequence));
  if (int rc = u.Step(); rc != SQLITE_DONE) return SqliteError(db_, rc, "record answer");
  return waiting ? AddEventLocked(answered_id, next, now) : absl::OkStatus();
}

absl::StatusOr<StoredMessage> SqliteStore::RecipientMessageLocked(const std::string& recipient,
                                                                  const std::string& message_id) {
  auto loaded = LoadLocked(message_id);
  if (!loaded.ok()) return loaded.status();
  return message_rules::InMailbox(*std::move(loaded), recipient, message_id);
}

absl::StatusOr<StoredMessage> SqliteStore::RefuseContentTx(
    const std::string& recipient, const std::string& message_id,
    safeshare::v1::ContentRefusalReason reason, const std::string& detail, absl::Time now) {
  {
    auto loaded = RecipientMessageLocked(recipient, message_id);
    if (!loaded.ok()) return loaded.status();
    StoredMessage m = std::move(*loaded);
    if (m.acknowledged_time.has_value()) return m;  // already settled
    Statement u(db_,
                "UPDATE messages SET acknowledged_us = ?, state = ?, refusal_reason = ?, "
                "refusal_detail = ?, open_deadline_us = NULL WHERE sequence = ?");
    if (auto st = u.status("refuse content"); !st.ok()) return st;
    u.Bind(1, ToMicros(now));
    u.Bind(2, static_cast<int64_t>(safeshare::v1::MESSAGE_STATE_CONTENT_REFUSED));
    u.Bind(3, static_cast<int64_t>(reason));
    u.Bind(4, detail);
    u.Bind(5, static_cast<int64_t>(m.sequence));
    if (int rc = u.Step(); rc != SQLITE_DONE) return SqliteError(db_, rc, "refuse content");
    if (auto st = AddEventLocked(message_id, safeshare::v1::MESSAGE_STATE_CONTENT_REFUSED, now);
        !st.ok()) {
      return st;
    }
    m.acknowledged_time = now;
    m.state = safeshare::v1::MESSAGE_STATE_CONTENT_REFUSED;
    m.refusal_reason = reason;
    m.refusal_detail = detail;
    return m;
  }
}

absl::StatusOr<StoredMessage> SqliteStore::AcknowledgeTx(const std::string& recipient,
                                                         const std::string& message_id,
                                                         absl::Time now) {
  {
    auto loaded = RecipientMessageLocked(recipient, message_id);
    if (!loaded.ok()) return loaded.status();
    StoredMessage m = std::move(*loaded);
    if (m.acknowledged_time.has_value()) return m;  // idempotent
    // A request's deadline stays open until it is answered.
    Statement u(db_, CachedLocked("UPDATE messages SET acknowledged_us = ?, state = ?, "
                                  "open_deadline_us = CASE WHEN kind = ? THEN open_deadline_us "
                                  "ELSE NULL END WHERE sequence = ?"));
    if (auto st = u.status("acknowledge"); !st.ok()) return st;
    u.Bind(1, ToMicros(now));
    u.Bind(2, static_cast<int64_t>(safeshare::v1::MESSAGE_STATE_ACKNOWLEDGED));
    u.Bind(3, static_cast<int64_t>(safeshare::v1::MESSAGE_KIND_INFORMATION_REQUEST));
    u.Bind(4, static_cast<int64_t>(m.sequence));
    if (int rc = u.Step(); rc != SQLITE_DONE) return SqliteError(db_, rc, "acknowledge");
    if (auto st = AddEventLocked(message_id, safeshare::v1::MESSAGE_STATE_ACKNOWLEDGED, now);
        !st.ok()) {
      return st;
    }
    m.acknowledged_time = now;
    m.state = safeshare::v1::MESSAGE_STATE_ACKNOWLEDGED;
    return m;
  }
}

absl::StatusOr<StoredMessage> SqliteStore::ResolveHeldTx(
    const std::string& message_id, bool approve,
    const std::function<absl::Time(safeshare::v1::Urgency)>& deadline_for, absl::Time now) {
  auto loaded = LoadLocked(message_id);
  if (!loaded.ok()) return loaded.status();
  auto held = message_rules::HeldForDecision(*std::move(loaded), message_id);
  if (!held.ok()) return held.status();
  StoredMessage m = *std::move(held);
  const auto next =
      approve ? safeshare::v1::MESSAGE_STATE_SUBMITTED : safeshare::v1::MESSAGE_STATE_REFUSED;
  const absl::Time deadline = deadline_for(m.urgency);
  Statement u(db_, approve ? "UPDATE messages SET state = ?1, ack_deadline_us = ?2, "
                             "open_deadline_us = ?2 WHERE sequence = ?3"
                           : "UPDATE messages SET state = ?, signed_envelope = x'', "
                             "open_deadline_us = NULL WHERE sequence = ?");
  if (auto st = u.status("resolve held"); !st.ok()) return st;
  u.Bind(1, static_cast<int64_t>(next));
  if (approve) {
    u.Bind(2, ToMicros(deadline));
    u.Bind(3, static_cast<int64_t>(m.sequence));
  } else {
    u.Bind(2, static_cast<int64_t>(m.sequence));
  }
  if (int rc = u.Step(); rc != SQLITE_DONE) return SqliteError(db_, rc, "resolve held");
  if (auto st = AddEventLocked(message_id, next, now); !st.ok()) return st;
  if (approve && !m.in_reply_to.empty()) {
    if (auto st = AnswerLocked(m.in_reply_to, now); !st.ok()) return st;
  }
  m.state = next;
  if (approve) {
    m.acknowledge_deadline = deadline;
  } else {
    m.signed_envelope.clear();
  }
  return m;
}

absl::StatusOr<std::vector<StoredMessage>> SqliteStore::MarkDeliveredTx(
    const std::string& recipient, const std::vector<uint64_t>& seqs, absl::Time now) {
  std::vector<StoredMessage> marked;
  static const std::string select =
      absl::StrCat("SELECT ", store_rows::kMessageColumns,
                   " FROM messages WHERE sequence = ? AND recipient = ?");
  for (uint64_t seq : seqs) {
    std::optional<StoredMessage> m;
    {
      Statement s(db_, CachedLocked(select));
      if (auto st = s.status("mark delivered"); !st.ok()) return st;
      s.Bind(1, static_cast<int64_t>(seq));
      s.Bind(2, recipient);
      int rc = s.Step();
      if (rc == SQLITE_ROW)
        m = store_rows::ReadMessageRow(s);
      else if (rc != SQLITE_DONE)
        return SqliteError(db_, rc, "mark delivered");
    }
    if (!m || m->first_delivered_time) continue;
    // Only a message still waiting changes state; an acknowledged or
    // escalated one keeps its state and just gains its hand-over time.
    Statement u(
        db_,
        CachedLocked("UPDATE messages SET first_delivered_us = ?, state = CASE WHEN state = ? "
                     "THEN ? ELSE state END WHERE sequence = ? AND first_delivered_us IS NULL"));
    if (auto st = u.status("mark delivered"); !st.ok()) return st;
    u.Bind(1, ToMicros(now));
    u.Bind(2, static_cast<int64_t>(safeshare::v1::MESSAGE_STATE_SUBMITTED));
    u.Bind(3, static_cast<int64_t>(safeshare::v1::MESSAGE_STATE_DELIVERED));
    u.Bind(4, static_cast<int64_t>(seq));
    if (int rc = u.Step(); rc != SQLITE_DONE) return SqliteError(db_, rc, "mark delivered");
    if (auto st = AddEventLocked(m->message_id, safeshare::v1::MESSAGE_STATE_DELIVERED, now);
        !st.ok()) {
      return st;
    }
    if (m->state == safeshare::v1::MESSAGE_STATE_SUBMITTED) {
      m->state = safeshare::v1::MESSAGE_STATE_DELIVERED;
    }
    m->first_delivered_time = now;
    marked.push_back(std::move(*m));
  }
  return marked;
}

absl::StatusOr<std::vector<StoredMessage>> SqliteStore::EscalateOverdueTx(absl::Time now,
                                                                          int limit) {
  static const std::string sql =
      absl::StrCat("SELECT ", store_rows::kMessageColumns,
                   " FROM messages WHERE open_deadline_us IS NOT NULL AND open_deadline_us < ? "
                   "ORDER BY open_deadline_us LIMIT ?");
  Statement s(db_, CachedLocked(sql));
  if (auto st = s.status("find overdue"); !st.ok()) return st;
  s.Bind(1, ToMicros(now));
  s.Bind(2, limit);
  auto found = ReadAll(db_, s, "find overdue");
  if (!found.ok()) return found.status();
  std::vector<StoredMessage> out = *std::move(found);
  for (StoredMessage& m : out) {
    // A hold stays HELD: only an officer's decision moves it on.
    const MessageState next = m.state == safeshare::v1::MESSAGE_STATE_HELD
                                  ? m.state
                                  : safeshare::v1::MESSAGE_STATE_ESCALATED;
    Statement u(db_, CachedLocked("UPDATE messages SET escalated_us = ?, state = ?, "
                                  "open_deadline_us = NULL WHERE sequence = ?"));
    if (auto st = u.status("escalate"); !st.ok()) return st;
    u.Bind(1, ToMicros(now));
    u.Bind(2, static_cast<int64_t>(next));
    u.Bind(3, static_cast<int64_t>(m.sequence));
    if (int urc = u.Step(); urc != SQLITE_DONE) return SqliteError(db_, urc, "escalate");
    if (auto st = AddEventLocked(m.message_id, safeshare::v1::MESSAGE_STATE_ESCALATED, now);
        !st.ok()) {
      return st;
    }
    m.state = next;
    m.escalated_time = now;
  }
  return out;
}

absl::StatusOr<std::vector<StoredMessage>> SqliteStore::PurgeExpiredTx(absl::Time now, int limit) {
  std::string sql = absl::StrCat("SELECT ", store_rows::kMessageColumns, " ", kFindExpired);
  Statement s(db_, sql.c_str());
  if (auto st = s.status("find expired"); !st.ok()) return st;
  s.Bind(1, ToMicros(now));
  s.Bind(2, static_cast<int64_t>(safeshare::v1::MESSAGE_STATE_ACKNOWLEDGED));
  s.Bind(3, static_cast<int64_t>(safeshare::v1::MESSAGE_STATE_ANSWERED));
  s.Bind(4, static_cast<int64_t>(safeshare::v1::MESSAGE_STATE_OUTCOME_RECEIVED));
  s.Bind(5, static_cast<int64_t>(safeshare::v1::MESSAGE_STATE_ESCALATED));
  s.Bind(6, limit);
  auto found = ReadAll(db_, s, "find expired");
  if (!found.ok()) return found.status();
  std::vector<StoredMessage> out = *std::move(found);
  for (StoredMessage& m : out) {
    Statement u(db_, "UPDATE messages SET signed_envelope = x'', state = ? WHERE sequence = ?");
    if (auto st = u.status("purge"); !st.ok()) return st;
    u.Bind(1, static_cast<int64_t>(safeshare::v1::MESSAGE_STATE_EXPIRED));
    u.Bind(2, static_cast<int64_t>(m.sequence));
    if (int urc = u.Step(); urc != SQLITE_DONE) return SqliteError(db_, urc, "purge");
    if (auto st = AddEventLocked(m.message_id, safeshare::v1::MESSAGE_STATE_EXPIRED, now);
        !st.ok()) {
      return st;
    }
    m.state = safeshare::v1::MESSAGE_STATE_EXPIRED;
    m.signed_envelope.clear();
  }
  return out;
}

}  // namespace safeshare::gateway
