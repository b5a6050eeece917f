-- Version 5 -> 6: expired content and holds are found by index. The
-- escalator's purge scan read the whole table, every envelope included, each
-- interval: a stall that grew with the database. kFindHeld's literal state
-- (2, HELD) is the one in messages_held's WHERE.

CREATE INDEX IF NOT EXISTS messages_by_purge ON messages (acknowledged_us + retention_us)
  WHERE retention_us > 0 AND length(signed_envelope) > 0;
CREATE INDEX IF NOT EXISTS messages_held ON messages (sequence) WHERE state = 2;
