-- Version 7 -> 8: key transparency. Every change to an agency's keys is a
-- record in the audit log (KEY_REGISTERED, KEY_PUBLISHED, KEY_REVOKED); this
-- table indexes those leaves by agency, so the directory can serve each
-- agency's key history with its proofs. Keys stored before this version get
-- a KEY_REGISTERED record when the gateway first starts on it.
CREATE TABLE IF NOT EXISTS key_events (
  leaf_index INTEGER PRIMARY KEY,
  agency_id  TEXT    NOT NULL,
  key_id     TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS key_events_by_agency ON key_events (agency_id, leaf_index);
