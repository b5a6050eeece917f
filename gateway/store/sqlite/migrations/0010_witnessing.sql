-- Version 10: witnessing (docs/federation.md). Checkpoints with the
-- cosignatures witnesses returned for them (the note as signed, plus the
-- cosignature lines; audit_checkpoints keeps the note as signed). And what
-- this gateway, as a witness, last cosigned for each log it follows: a log is
-- cosigned only consistently with it.

CREATE TABLE IF NOT EXISTS cosigned_checkpoints (
  tree_size    INTEGER PRIMARY KEY,
  note         TEXT    NOT NULL,
  cosignatures INTEGER NOT NULL,
  time_us      INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS witnessed_logs (
  origin     TEXT    PRIMARY KEY,
  tree_size  INTEGER NOT NULL,
  root_hash  BLOB    NOT NULL,
  time_us    INTEGER NOT NULL
) WITHOUT ROWID;
