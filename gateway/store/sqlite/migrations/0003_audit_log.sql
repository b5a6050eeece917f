-- Version 2 -> 3: the audit log. audit_log holds the leaves (level 0);
-- audit_nodes every complete subtree above them; proofs read O(log n) rows.

CREATE TABLE IF NOT EXISTS audit_log (
  seq               INTEGER PRIMARY KEY,
  record            BLOB    NOT NULL,
  leaf_hash         BLOB    NOT NULL,
  time_us           INTEGER NOT NULL,
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
CREATE INDEX IF NOT EXISTS audit_by_sender ON audit_log (sender, seq);
CREATE INDEX IF NOT EXISTS audit_by_recipient ON audit_log (recipient, seq);
CREATE INDEX IF NOT EXISTS audit_by_time ON audit_log (time_us);
CREATE INDEX IF NOT EXISTS audit_by_subject ON audit_log (subject_reference);
CREATE TABLE IF NOT EXISTS audit_nodes (
  level INTEGER NOT NULL,
  idx   INTEGER NOT NULL,
  hash  BLOB    NOT NULL,
  PRIMARY KEY (level, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS audit_checkpoints (
  tree_size INTEGER PRIMARY KEY,
  root_hash BLOB    NOT NULL,
  note      TEXT    NOT NULL,
  time_us   INTEGER NOT NULL
);
