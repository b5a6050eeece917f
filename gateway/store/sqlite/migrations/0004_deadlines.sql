-- Version 3 -> 4: acknowledgement deadlines and escalation.

ALTER TABLE messages ADD COLUMN urgency INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN ack_deadline_us INTEGER;
ALTER TABLE messages ADD COLUMN escalated_us INTEGER;
CREATE INDEX IF NOT EXISTS messages_by_deadline ON messages (ack_deadline_us)
  WHERE acknowledged_us IS NULL AND escalated_us IS NULL;
ALTER TABLE messages ADD COLUMN retention_us INTEGER NOT NULL DEFAULT 0;
