-- Which process claimed an Idempotency-Key call (status 0): a retry that finds the claim
-- of a process no longer alive (its liveness lease lapsed, or, on SQLite, a previous boot)
-- takes it over at once instead of answering "being applied".
ALTER TABLE http_replies ADD COLUMN owner TEXT NOT NULL DEFAULT '';
