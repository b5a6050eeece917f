-- Each mailbox's unacknowledged sealed content in bytes, kept by triggers
-- (O(1) per write) so Submit can check limits.mailbox_quota_bytes without
-- summing the mailbox. Rows kept with no retention (a hold approved before
-- this migration took none) get a year, the commonest agreement's.

CREATE TABLE mailbox_usage (
  recipient TEXT   PRIMARY KEY,
  bytes     BIGINT NOT NULL
);
INSERT INTO mailbox_usage (recipient, bytes)
  SELECT recipient, sum(length(signed_envelope)) FROM messages
  WHERE acknowledged_us IS NULL GROUP BY recipient;
CREATE FUNCTION mailbox_usage_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  delta BIGINT := 0;
BEGIN
  IF NEW.acknowledged_us IS NULL THEN delta := length(NEW.signed_envelope); END IF;
  IF TG_OP = 'UPDATE' AND OLD.acknowledged_us IS NULL THEN
    delta := delta - length(OLD.signed_envelope);
  END IF;
  IF delta <> 0 THEN
    INSERT INTO mailbox_usage (recipient, bytes) VALUES (NEW.recipient, delta)
      ON CONFLICT (recipient) DO UPDATE SET bytes = mailbox_usage.bytes + delta;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER mailbox_usage_insert AFTER INSERT ON messages
  FOR EACH ROW EXECUTE FUNCTION mailbox_usage_change();
CREATE TRIGGER mailbox_usage_update AFTER UPDATE OF signed_envelope, acknowledged_us ON messages
  FOR EACH ROW EXECUTE FUNCTION mailbox_usage_change();
UPDATE messages SET retention_us = 365 * 86400000000::BIGINT
  WHERE retention_us = 0 AND length(signed_envelope) > 0;
