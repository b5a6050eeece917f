-- Witnessing (docs/federation.md). Checkpoints with the cosignatures
-- witnesses returned for them (the note as signed, plus the cosignature
-- lines; audit_checkpoints keeps the note as signed). And what this gateway,
-- as a witness, last cosigned for each log it follows: a log is cosigned only
-- consistently with it, whichever replica answers.

CREATE TABLE cosigned_checkpoints (
  tree_size    BIGINT  PRIMARY KEY,
  note         TEXT    NOT NULL,
  cosignatures INTEGER NOT NULL,
  time_us      BIGINT  NOT NULL
);

CREATE TABLE witnessed_logs (
  origin     TEXT   PRIMARY KEY,
  tree_size  BIGINT NOT NULL,
  root_hash  BYTEA  NOT NULL,
  time_us    BIGINT NOT NULL
);
