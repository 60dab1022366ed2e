-- The secret of each account's calendar feed URLs (recurring rooms): one per account,
-- made on first use, replaced when the person asks for new URLs.
CREATE TABLE feed_tokens (
    account TEXT PRIMARY KEY,
    token TEXT NOT NULL UNIQUE,
    created BIGINT NOT NULL
);
