-- Expired content is found by index: the escalator's purge query otherwise
-- reads the whole messages table each interval.
CREATE INDEX messages_by_purge ON messages ((acknowledged_us + retention_us))
  WHERE retention_us > 0 AND length(signed_envelope) > 0;
