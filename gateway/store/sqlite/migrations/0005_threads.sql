-- Version 4 -> 5: threads, and one open deadline per message (to be
-- acknowledged, answered or decided), indexed only while it is open.

ALTER TABLE messages ADD COLUMN in_reply_to TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN declaration BLOB NOT NULL DEFAULT x'';
ALTER TABLE messages ADD COLUMN answered_us INTEGER;
ALTER TABLE messages ADD COLUMN open_deadline_us INTEGER;
UPDATE messages SET open_deadline_us = ack_deadline_us
  WHERE acknowledged_us IS NULL AND escalated_us IS NULL AND state IN (1, 4);
DROP INDEX IF EXISTS messages_by_deadline;
CREATE INDEX IF NOT EXISTS messages_by_open_deadline ON messages (open_deadline_us)
  WHERE open_deadline_us IS NOT NULL;
CREATE INDEX IF NOT EXISTS messages_by_reply ON messages (in_reply_to)
  WHERE in_reply_to <> '';
