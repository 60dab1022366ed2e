-- The guest link a guest session came in through: revoking the link ends the session.
ALTER TABLE sessions ADD COLUMN invite TEXT;
CREATE INDEX sessions_by_invite ON sessions (invite);
