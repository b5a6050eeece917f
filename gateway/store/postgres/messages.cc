// The PostgreSQL store's mailbox: messages, their state changes and threads.

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gateway/store/message_rules.h"
#include "gateway/store/postgres/postgres_store.h"
#include "gateway/store/store_rows.h"

namespace safeshare::gateway {

using pg::Bytes;
using pg::Micros;
using pg::Null;
using pg::P;
using pg::Param;
using pg::Run;
using safeshare::v1::MessageState;
using store_rows::FromMicros;
using store_rows::ToMicros;

namespace {

std::string MessageSelect(absl::string_view where) {
  return absl::StrCat("SELECT ", store_rows::kMessageColumns, " FROM messages WHERE ", where);
}

}  // namespace

absl::Status PostgresStore::NotifyMailLocked(const std::string& recipient) {
  // Delivered with the commit, to every replica's listener.
  return Run(write_, "SELECT pg_notify($1, $2)", {P(pg::kMailChannel), P(recipient)}, "notify")
      .status();
}

absl::StatusOr<std::optional<StoredMessage>> PostgresStore::LoadLocked(
    const std::string& message_id) {
  static const std::string sql = MessageSelect("message_id = $1");
  auto r = Run(write_, sql.c_str(), {P(message_id)}, "load message");
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return std::optional<StoredMessage>();
  return std::optional<StoredMessage>(store_rows::ReadMessageRow(r->row(0)));
}

absl::Status PostgresStore::AddEventLocked(const std::string& message_id, MessageState state,
                                           absl::Time t) {
  return Run(write_, "INSERT INTO message_events (message_id, state, time_us) VALUES ($1, $2, $3)",
             {P(message_id), P(static_cast<int>(state)), P(ToMicros(t))}, "record state change")
      .status();
}

absl::StatusOr<InsertResult> PostgresStore::InsertMessageTx(const StoredMessage& m) {
  auto existing = LoadLocked(m.message_id);
  if (!existing.ok()) return existing.status();
  if (existing->has_value()) return InsertResult{false, std::move(**existing)};
  const bool open = message_rules::OpensDeadline(m);
  auto r = Run(write_,
               "INSERT INTO messages (message_id, sender, recipient, kind, signed_envelope, "
               "envelope_sha256, receipt, state, accepted_us, urgency, ack_deadline_us, "
               "retention_us, in_reply_to, declaration, open_deadline_us) VALUES ($1, $2, $3, $4, "
               "$5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING sequence",
               {P(m.message_id), P(m.sender_agency_id), P(m.recipient_agency_id),
                P(static_cast<int>(m.kind)), Bytes(m.signed_envelope), Bytes(m.envelope_sha256),
                Bytes(m.receipt), P(static_cast<int>(m.state)), P(ToMicros(m.accepted_time)),
                P(static_cast<int>(m.urgency)), Micros(m.acknowledge_deadline),
                P(absl::ToInt64Microseconds(m.retention)), P(m.in_reply_to), Bytes(m.declaration),
                open ? Micros(m.acknowledge_deadline) : Null()},
               "insert message");
  if (!r.ok()) return r.status();
  InsertResult result{true, m};
  result.message.sequence = static_cast<uint64_t>(r->row(0).Int(0));
  if (auto st = AddEventLocked(m.message_id, m.state, m.accepted_time); !st.ok()) return st;
  if (m.state == safeshare::v1::MESSAGE_STATE_SUBMITTED) {
    if (auto st = NotifyMailLocked(m.recipient_agency_id); !st.ok()) return st;
    if (!m.in_reply_to.empty()) {
      if (auto st = AnswerLocked(m.in_reply_to, m.accepted_time); !st.ok()) return st;
    }
  }
  return result;
}

absl::Status PostgresStore::AnswerLocked(const std::string& answered_id, absl::Time now) {
  auto loaded = LoadLocked(answered_id);
  if (!loaded.ok()) return loaded.status();
  if (auto st = message_rules::AnsweredIsStored(*loaded, answered_id); !st.ok()) return st;
  const StoredMessage& m = **loaded;
  const bool waiting = store_rows::AwaitsAnswer(m.state);
  const MessageState next = store_rows::AnsweredState(m.kind);
  auto r = Run(write_,
               "UPDATE messages SET answered_us = COALESCE(answered_us, $1), "
               "acknowledged_us = COALESCE(acknowledged_us, $1), open_deadline_us = NULL, "
               "state = $2 WHERE sequence = $3",
               {P(ToMicros(now)), P(static_cast<int>(waiting ? next : m.state)), P(m.sequence)},
               "record answer");
  if (!r.ok()) return r.status();
  return waiting ? AddEventLocked(answered_id, next, now) : absl::OkStatus();
}

absl::StatusOr<StoredMessage> PostgresStore::RecipientMessageLocked(const std::string& recipient,
                                                                    const std::string& message_id) {
  auto loaded = LoadLocked(message_id);
  if (!loaded.ok()) return loaded.status();
  return message_rules::InMailbox(*std::move(loaded), recipient, message_id);
}

absl::StatusOr<StoredMessage> PostgresStore::AcknowledgeTx(const std::string& recipient,
                                                           const std::string& message_id,
                                                           absl::Time now) {
  auto loaded = RecipientMessageLocked(recipient, message_id);
  if (!loaded.ok()) return loaded.status();
  StoredMessage m = std::move(*loaded);
  if (m.acknowledged_time.has_value()) return m;  // idempotent
  // A request's deadline stays open until it is answered.
  auto r =
      Run(write_,
          "UPDATE messages SET acknowledged_us = $1, state = $2, open_deadline_us = CASE "
          "WHEN kind = $3 THEN open_deadline_us ELSE NULL END WHERE sequence = $4",
          {P(ToMicros(now)), P(static_cast<int>(safeshare::v1::MESSAGE_STATE_ACKNOWLEDGED)),
           P(static_cast<int>(safeshare::v1::MESSAGE_KIND_INFORMATION_REQUEST)), P(m.sequence)},
          "acknowledge");
  if (!r.ok()) return r.status();
  if (auto st = AddEventLocked(message_id, safeshare::v1::MESSAGE_STATE_ACKNOWLEDGED, now);
      !st.ok()) {
    return st;
  }
  m.acknowledged_time = now;
  m.state = safeshare::v1::MESSAGE_STATE_ACKNOWLEDGED;
  return m;
}

absl::StatusOr<StoredMessage> PostgresStore::RefuseContentTx(
    const std::string& recipient, const std::string& message_id,
    safeshare::v1::ContentRefusalReason reason, const std::string& detail, absl::Time now) {
  auto loaded = RecipientMessageLocked(recipient, message_id);
  if (!loaded.ok()) return loaded.status();
  StoredMessage m = std::move(*loaded);
  if (m.acknowledged_time.has_value()) return m;  // already settled
  auto r = Run(write_,
               "UPDATE messages SET acknowledged_us = $1, state = $2, refusal_reason = $3, "
               "refusal_detail = $4, open_deadline_us = NULL WHERE sequence = $5",
               {P(ToMicros(now)), P(static_cast<int>(safeshare::v1::MESSAGE_STATE_CONTENT_REFUSED)),
                P(static_cast<int>(reason)), P(detail), P(m.sequence)},
               "refuse content");
  if (!r.ok()) return r.status();
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

absl::StatusOr<StoredMessage> PostgresStore::ResolveHeldTx(
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
  auto r = approve ? Run(write_,
                         "UPDATE messages SET state = $1, ack_deadline_us = $2, "
                         "open_deadline_us = $2 WHERE sequence = $3",
                         {P(static_cast<int>(next)), P(ToMicros(deadline)), P(m.sequence)},
                         "resolve held")
                   : Run(write_,
                         "UPDATE messages SET state = $1, signed_envelope = '', "
                         "open_deadline_us = NULL WHERE sequence = $2",
                         {P(static_cast<int>(next)), P(m.sequence)}, "resolve held");
  if (!r.ok()) return r.status();
  if (auto st = AddEventLocked(message_id, next, now); !st.ok()) return st;
  m.state = next;
  if (approve) {
    m.acknowledge_deadline = deadline;
    if (auto st = NotifyMailLocked(m.recipient_agency_id); !st.ok()) return st;
    if (!m.in_reply_to.empty()) {
      if (auto st = AnswerLocked(m.in_reply_to, now); !st.ok()) return st;
    }
  } else {
    m.signed_envelope.clear();
  }
  return m;
}

absl::StatusOr<std::vector<StoredMessage>> PostgresStore::MarkDeliveredTx(
    const std::string& recipient, const std::vector<uint64_t>& seqs, absl::Time now) {
  std::vector<StoredMessage> marked;
  static const std::string select = MessageSelect("sequence = $1 AND recipient = $2");
  for (uint64_t seq : seqs) {
    auto r = Run(write_, select.c_str(), {P(seq), P(recipient)}, "mark delivered");
    if (!r.ok()) return r.status();
    if (r->rows() == 0) continue;
    StoredMessage m = store_rows::ReadMessageRow(r->row(0));
    if (m.first_delivered_time) continue;
    // Only a message still waiting changes state; an acknowledged or
    // escalated one keeps its state and just gains its hand-over time.
    auto u = Run(write_,
                 "UPDATE messages SET first_delivered_us = $1, state = CASE WHEN state = $2 "
                 "THEN $3 ELSE state END WHERE sequence = $4 AND first_delivered_us IS NULL",
                 {P(ToMicros(now)), P(static_cast<int>(safeshare::v1::MESSAGE_STATE_SUBMITTED)),
                  P(static_cast<int>(safeshare::v1::MESSAGE_STATE_DELIVERED)), P(seq)},
                 "mark delivered");
    if (!u.ok()) return u.status();
    if (auto st = AddEventLocked(m.message_id, safeshare::v1::MESSAGE_STATE_DELIVERED, now);
        !st.ok()) {
      return st;
    }
    if (m.state == safeshare::v1::MESSAGE_STATE_SUBMITTED) {
      m.state = safeshare::v1::MESSAGE_STATE_DELIVERED;
    }
    m.first_delivered_time = now;
    marked.push_back(std::move(m));
  }
  return marked;
}

absl::StatusOr<std::vector<StoredMessage>> PostgresStore::EscalateOverdueTx(absl::Time now,
                                                                            int limit) {
  static const std::string sql =
      absl::StrCat(MessageSelect("open_deadline_us IS NOT NULL AND open_deadline_us < $1"),
                   " ORDER BY open_deadline_us LIMIT $2");
  auto r = Run(write_, sql.c_str(), {P(ToMicros(now)), P(limit)}, "find overdue");
  if (!r.ok()) return r.status();
  std::vector<StoredMessage> out;
  for (int i = 0; i < r->rows(); ++i) out.push_back(store_rows::ReadMessageRow(r->row(i)));
  for (StoredMessage& m : out) {
    // A hold stays HELD: only an officer's decision moves it on.
    const MessageState next = m.state == safeshare::v1::MESSAGE_STATE_HELD
                                  ? m.state
                                  : safeshare::v1::MESSAGE_STATE_ESCALATED;
    auto u = Run(write_,
                 "UPDATE messages SET escalated_us = $1, state = $2, open_deadline_us = NULL "
                 "WHERE sequence = $3",
                 {P(ToMicros(now)), P(static_cast<int>(next)), P(m.sequence)}, "escalate");
    if (!u.ok()) return u.status();
    if (auto st = AddEventLocked(m.message_id, safeshare::v1::MESSAGE_STATE_ESCALATED, now);
        !st.ok()) {
      return st;
    }
    m.state = next;
    m.escalated_time = now;
  }
  return out;
}

absl::StatusOr<std::vector<StoredMessage>> PostgresStore::PurgeExpiredTx(absl::Time now,
                                                                         int limit) {
  static const std::string sql = absl::StrCat(
      MessageSelect("state IN ($1, $2, $3, $4) AND retention_us > 0 AND "
                    "length(signed_envelope) > 0 AND acknowledged_us + retention_us < $5"),
      " ORDER BY acknowledged_us + retention_us LIMIT $6");
  auto r =
      Run(write_, sql.c_str(),
          {P(static_cast<int>(safeshare::v1::MESSAGE_STATE_ACKNOWLEDGED)),
           P(static_cast<int>(safeshare::v1::MESSAGE_STATE_ANSWERED)),
           P(static_cast<int>(safeshare::v1::MESSAGE_STATE_OUTCOME_RECEIVED)),
           P(static_cast<int>(safeshare::v1::MESSAGE_STATE_ESCALATED)), P(ToMicros(now)), P(limit)},
          "find expired");
  if (!r.ok()) return r.status();
  std::vector<StoredMessage> out;
  for (int i = 0; i < r->rows(); ++i) out.push_back(store_rows::ReadMessageRow(r->row(i)));
  for (StoredMessage& m : out) {
    auto u =
        Run(write_, "UPDATE messages SET signed_envelope = '', state = $1 WHERE sequence = $2",
            {P(static_cast<int>(safeshare::v1::MESSAGE_STATE_EXPIRED)), P(m.sequence)}, "purge");
    if (!u.ok()) return u.status();
    if (auto st = AddEventLocked(m.message_id, safeshare::v1::MESSAGE_STATE_EXPIRED, now);
        !st.ok()) {
      return st;
    }
    m.state = safeshare::v1::MESSAGE_STATE_EXPIRED;
    m.signed_envelope.clear();
  }
  return out;
}

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

absl::StatusOr<StoredMessage> PostgresStore::GetMessage(const std::string& message_id) {
  static const std::string sql = MessageSelect("message_id = $1");
  auto found = ReadMessages(sql, {message_id}, true);
  if (!found.ok()) return found.status();
  if (found->empty()) return absl::NotFoundError(absl::StrCat("no message with id ", message_id));
  return std::move(found->front());
}

absl::StatusOr<std::vector<StoredMessage>> PostgresStore::ListThread(const std::string& root_id) {
  static const std::string sql =
      absl::StrCat(MessageSelect("message_id = $1 OR in_reply_to = $1"), " ORDER BY sequence");
  return ReadMessages(sql, {root_id}, true);
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
      MessageSelect("state = $1 AND sequence > $2"),
      senders.empty() ? "" : absl::StrCat(" AND sender IN (", absl::StrJoin(marks, ","), ")"),
      " ORDER BY sequence LIMIT $3");
  return ReadMessages(sql, params, false);
}

absl::StatusOr<std::vector<StoredMessage>> PostgresStore::PendingForRecipient(
    const std::string& recipient, uint64_t after_sequence, int limit) {
  static const std::string sql = absl::StrCat(
      MessageSelect("recipient = $1 AND acknowledged_us IS NULL AND sequence > $2 AND state IN "
                    "($3, $4, $5)"),
      " ORDER BY sequence LIMIT $6");
  return ReadMessages(
      sql,
      {recipient, absl::StrCat(after_sequence),
       absl::StrCat(static_cast<int>(safeshare::v1::MESSAGE_STATE_SUBMITTED)),
       absl::StrCat(static_cast<int>(safeshare::v1::MESSAGE_STATE_DELIVERED)),
       absl::StrCat(static_cast<int>(safeshare::v1::MESSAGE_STATE_ESCALATED)), absl::StrCat(limit)},
      false);
}

}  // namespace safeshare::gateway
