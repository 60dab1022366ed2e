-- A guest link may admit to one live session (and its room as far as the session needs):
-- the link and the sessions entered through it name it.
ALTER TABLE invites ADD COLUMN session TEXT;
ALTER TABLE sessions ADD COLUMN guest_session TEXT;
