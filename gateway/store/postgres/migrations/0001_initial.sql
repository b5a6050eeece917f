-- safeshare PostgreSQL schema, version 1. Applied by the gateway at start, in
-- one transaction under an advisory lock; never edit an applied migration,
-- add the next file instead.

CREATE TABLE messages (
  sequence           BIGSERIAL PRIMARY KEY,
  message_id         TEXT    NOT NULL UNIQUE,
  sender             TEXT    NOT NULL,
  recipient          TEXT    NOT NULL,
  kind               INTEGER NOT NULL,
  signed_envelope    BYTEA   NOT NULL,
  envelope_sha256    BYTEA   NOT NULL,
  receipt            BYTEA   NOT NULL,
  state              INTEGER NOT NULL,
  accepted_us        BIGINT  NOT NULL,
  first_delivered_us BIGINT,
  acknowledged_us    BIGINT,
  refusal_reason     INTEGER NOT NULL DEFAULT 0,
  refusal_detail     TEXT    NOT NULL DEFAULT '',
  urgency            INTEGER NOT NULL DEFAULT 0,
  ack_deadline_us    BIGINT,
  escalated_us       BIGINT,
  retention_us       BIGINT  NOT NULL DEFAULT 0,
  in_reply_to        TEXT    NOT NULL DEFAULT '',
  declaration        BYTEA   NOT NULL DEFAULT '',
  answered_us        BIGINT,
  -- The deadline still open (to acknowledge, answer or decide), indexed only while open.
  open_deadline_us   BIGINT
);
CREATE INDEX messages_by_mailbox ON messages (recipient, sequence) WHERE acknowledged_us IS NULL;
CREATE INDEX messages_by_open_deadline ON messages (open_deadline_us)
  WHERE open_deadline_us IS NOT NULL;
CREATE INDEX messages_by_reply ON messages (in_reply_to) WHERE in_reply_to <> '';
CREATE INDEX messages_held ON messages (sequence) WHERE state = 2;

CREATE TABLE message_events (
  id         BIGSERIAL PRIMARY KEY,
  message_id TEXT    NOT NULL,
  state      INTEGER NOT NULL,
  time_us    BIGINT  NOT NULL
);
CREATE INDEX message_events_by_message ON message_events (message_id, id);

CREATE TABLE agency_keys (
  seq           BIGSERIAL PRIMARY KEY,
  key_id        TEXT    NOT NULL UNIQUE,
  agency_id     TEXT    NOT NULL,
  purpose       INTEGER NOT NULL,
  public_key    BYTEA   NOT NULL,
  not_before_us BIGINT  NOT NULL,
  not_after_us  BIGINT,
  current       INTEGER NOT NULL,
  revoked_us    BIGINT
);

-- The audit log: leaves (level 0) here, every complete subtree above them in
-- audit_nodes, so proofs read O(log n) rows. seq is assigned by whichever
-- replica holds the log's advisory lock, inside its transaction.
CREATE TABLE audit_log (
  seq               BIGINT  PRIMARY KEY,
  record            BYTEA   NOT NULL,
  leaf_hash         BYTEA   NOT NULL,
  time_us           BIGINT  NOT NULL,
  event             INTEGER NOT NULL,
  message_id        TEXT    NOT NULL,
  kind              INTEGER NOT NULL,
  sender            TEXT    NOT NULL,
  recipient         TEXT    NOT NULL,
  sender_area       TEXT    NOT NULL,
  recipient_area    TEXT    NOT NULL,
  purpose           INTEGER NOT NULL,
  decision          INTEGER NOT NULL,
  subject_reference TEXT    NOT NULL,
  flagged_checks    TEXT    NOT NULL
);
CREATE INDEX audit_by_sender ON audit_log (sender, seq);
CREATE INDEX audit_by_recipient ON audit_log (recipient, seq);
CREATE INDEX audit_by_time ON audit_log (time_us);
CREATE INDEX audit_by_subject ON audit_log (subject_reference);

CREATE TABLE audit_nodes (
  level INTEGER NOT NULL,
  idx   BIGINT  NOT NULL,
  hash  BYTEA   NOT NULL,
  PRIMARY KEY (level, idx)
);

CREATE TABLE audit_checkpoints (
  tree_size BIGINT PRIMARY KEY,
  root_hash BYTEA  NOT NULL,
  note      TEXT   NOT NULL,
  time_us   BIGINT NOT NULL
);
