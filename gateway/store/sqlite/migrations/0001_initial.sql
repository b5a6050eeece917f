-- safeshare SQLite schema, version 1, with the tables later added without a
-- new version (agency_keys). IF NOT EXISTS throughout: it also runs on a
-- version-1 file. Applied with every later migration in one transaction.

CREATE TABLE IF NOT EXISTS messages (
  sequence           INTEGER PRIMARY KEY AUTOINCREMENT,
  message_id         TEXT    NOT NULL UNIQUE,
  sender             TEXT    NOT NULL,
  recipient          TEXT    NOT NULL,
  kind               INTEGER NOT NULL,
  signed_envelope    BLOB    NOT NULL,
  envelope_sha256    BLOB    NOT NULL,
  receipt            BLOB    NOT NULL,
  state              INTEGER NOT NULL,
  accepted_us        INTEGER NOT NULL,
  first_delivered_us INTEGER,
  acknowledged_us    INTEGER
);
CREATE INDEX IF NOT EXISTS messages_by_mailbox
  ON messages (recipient, acknowledged_us, sequence);
CREATE TABLE IF NOT EXISTS message_events (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  message_id TEXT    NOT NULL,
  state      INTEGER NOT NULL,
  time_us    INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS message_events_by_message
  ON message_events (message_id, id);
CREATE TABLE IF NOT EXISTS agency_keys (
  seq           INTEGER PRIMARY KEY AUTOINCREMENT,
  key_id        TEXT    NOT NULL UNIQUE,
  agency_id     TEXT    NOT NULL,
  purpose       INTEGER NOT NULL,
  public_key    BLOB    NOT NULL,
  not_before_us INTEGER NOT NULL,
  not_after_us  INTEGER,
  current       INTEGER NOT NULL,
  revoked_us    INTEGER
);
