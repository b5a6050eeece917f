-- Erasable text (4 is taken by the key-transparency branch). The free text of
-- audit records appended from now on (and the subject reference) lives here,
-- keyed by (leaf index, field); the record as hashed keeps a salted commitment
-- to it (docs/audit-log.md, "Erasable text"). An erasure sets salt and text to
-- NULL and records when and by whom; a rectification replaces both and names
-- the TEXT_RECTIFIED leaf whose commitment they open. Records appended before
-- this migration keep their text in place.

CREATE TABLE audit_text (
  seq          BIGINT NOT NULL,
  field        TEXT   NOT NULL,
  salt         BYTEA,
  text         TEXT,
  rectified_in BIGINT NOT NULL DEFAULT 0,
  erased_us    BIGINT,
  erased_by    TEXT   NOT NULL DEFAULT '',
  PRIMARY KEY (seq, field)
);
