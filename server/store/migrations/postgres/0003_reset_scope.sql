-- Which community's owner issued a reset link (NULL: the server operator), and how far
-- that community's stream was then: a removal after it kills the link.
ALTER TABLE password_resets ADD COLUMN community text;
ALTER TABLE password_resets ADD COLUMN community_seq bigint NOT NULL DEFAULT 0;
CREATE INDEX password_resets_account ON password_resets (account);
