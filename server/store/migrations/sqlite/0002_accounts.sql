-- Accounts, sign-in sessions, invites, join requests and password resets.
-- Tokens (session, invite, reset) are stored as SHA-256 hashes, never in clear.
DROP TABLE sessions;
DROP TABLE members;

CREATE TABLE accounts (
    id            TEXT PRIMARY KEY,
    login         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    name          TEXT NOT NULL,
    pronouns      TEXT NOT NULL DEFAULT '',
    timezone      TEXT NOT NULL DEFAULT 'UTC',
    practice      TEXT NOT NULL DEFAULT '',
    created       INTEGER NOT NULL
);

-- One row per signed-in browser (account set) or guest (account NULL, room set).
CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    token_hash BLOB NOT NULL UNIQUE,
    account    TEXT REFERENCES accounts (id) ON DELETE CASCADE,
    guest_name TEXT,
    community  TEXT,
    room       TEXT,
    csrf       TEXT NOT NULL,
    created    INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,
    expires    INTEGER NOT NULL,
    user_agent TEXT NOT NULL DEFAULT '',
    address    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_by_account ON sessions (account);

CREATE TABLE invites (
    id         TEXT PRIMARY KEY,
    token_hash BLOB NOT NULL UNIQUE,
    community  TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('member', 'guest')),
    room       TEXT,
    created_by TEXT NOT NULL,
    created    INTEGER NOT NULL,
    expires    INTEGER NOT NULL,
    max_uses   INTEGER NOT NULL,
    uses       INTEGER NOT NULL DEFAULT 0,
    revoked    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX invites_by_community ON invites (community);

CREATE TABLE join_requests (
    community TEXT NOT NULL,
    account   TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name      TEXT NOT NULL,
    note      TEXT NOT NULL DEFAULT '',
    created   INTEGER NOT NULL,
    PRIMARY KEY (community, account)
);

CREATE TABLE password_resets (
    token_hash BLOB PRIMARY KEY,
    account    TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_by TEXT NOT NULL,
    created    INTEGER NOT NULL,
    expires    INTEGER NOT NULL,
    used       INTEGER NOT NULL DEFAULT 0
);
