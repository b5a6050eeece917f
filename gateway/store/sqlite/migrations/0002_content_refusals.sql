-- Version 1 -> 2: content refusals.

ALTER TABLE messages ADD COLUMN refusal_reason INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN refusal_detail TEXT NOT NULL DEFAULT '';
