-- Version 6 -> 7: each mailbox's unacknowledged sealed content in bytes, kept
-- by triggers (O(1) per write) so Submit can check limits.mailbox_quota_bytes
-- without summing the mailbox. Content refused by its recipient expires like
-- acknowledged content. Rows kept with no retention (a hold approved before
-- version 7 took none) get a year, the commonest agreement's.

CREATE TABLE IF NOT EXISTS mailbox_usage (
  recipient TEXT    PRIMARY KEY,
  bytes     INTEGER NOT NULL
);
INSERT OR REPLACE INTO mailbox_usage (recipient, bytes)
  SELECT recipient, sum(length(signed_envelope)) FROM messages
  WHERE acknowledged_us IS NULL GROUP BY recipient;
CREATE TRIGGER IF NOT EXISTS mailbox_usage_insert AFTER INSERT ON messages
  WHEN NEW.acknowledged_us IS NULL
BEGIN
  INSERT INTO mailbox_usage (recipient, bytes) VALUES (NEW.recipient, length(NEW.signed_envelope))
    ON CONFLICT (recipient) DO UPDATE SET bytes = bytes + excluded.bytes;
END;
CREATE TRIGGER IF NOT EXISTS mailbox_usage_update
  AFTER UPDATE OF signed_envelope, acknowledged_us ON messages
BEGIN
  UPDATE mailbox_usage SET bytes = bytes
      + (CASE WHEN NEW.acknowledged_us IS NULL THEN length(NEW.signed_envelope) ELSE 0 END)
      - (CASE WHEN OLD.acknowledged_us IS NULL THEN length(OLD.signed_envelope) ELSE 0 END)
    WHERE recipient = NEW.recipient;
END;
UPDATE messages SET retention_us = 365 * 86400000000
  WHERE retention_us = 0 AND length(signed_envelope) > 0;
