-- Version 9 (8 is taken by the key-transparency branch): erasable text. The
-- free text of audit records appended from now on (and the subject reference)
-- lives here, keyed by (leaf index, field); the record as hashed keeps a
-- salted commitment to it (docs/audit-log.md, "Erasable text"). An erasure
-- sets salt and text to NULL and records when and by whom; a rectification
-- replaces both and names the TEXT_RECTIFIED leaf whose commitment they open.
-- Records appended before version 9 keep their text in place.

CREATE TABLE IF NOT EXISTS audit_text (
  seq          INTEGER NOT NULL,
  field        TEXT    NOT NULL,
  salt         BLOB,
  text         TEXT,
  rectified_in INTEGER NOT NULL DEFAULT 0,
  erased_us    INTEGER,
  erased_by    TEXT    NOT NULL DEFAULT '',
  PRIMARY KEY (seq, field)
) WITHOUT ROWID;
