-- Accounts, sign-in sessions, invites, join requests and password resets.
-- Tokens (session, invite, reset) are stored as SHA-256 hashes, never in clear.
DROP TABLE sessions;
DROP TABLE members;

CREATE TABLE accounts (
    id            text PRIMARY KEY,
    login         text NOT NULL UNIQUE,
    password_hash text NOT NULL,
    name          text NOT NULL,
    pronouns      text NOT NULL DEFAULT '',
    timezone      text NOT NULL DEFAULT 'UTC',
    practice      text NOT NULL DEFAULT '',
    created       bigint NOT NULL
);

-- One row per signed-in browser (account set) or guest (account NULL, room set).
CREATE TABLE sessions (
    id         text PRIMARY KEY,
    token_hash bytea NOT NULL UNIQUE,
    account    text REFERENCES accounts (id) ON DELETE CASCADE,
    guest_name text,
    community  text,
    room       text,
    csrf       text NOT NULL,
    created    bigint NOT NULL,
    last_seen  bigint NOT NULL,
    expires    bigint NOT NULL,
    user_agent text NOT NULL DEFAULT '',
    address    text NOT NULL DEFAULT ''
);
CREATE INDEX sessions_by_account ON sessions (account);

CREATE TABLE invites (
    id         text PRIMARY KEY,
    token_hash bytea NOT NULL UNIQUE,
    community  text NOT NULL,
    kind       text NOT NULL CHECK (kind IN ('member', 'guest')),
    room       text,
    created_by text NOT NULL,
    created    bigint NOT NULL,
    expires    bigint NOT NULL,
    max_uses   bigint NOT NULL,
    uses       bigint NOT NULL DEFAULT 0,
    revoked    bigint NOT NULL DEFAULT 0
);
CREATE INDEX invites_by_community ON invites (community);

CREATE TABLE join_requests (
    community text NOT NULL,
    account   text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name      text NOT NULL,
    note      text NOT NULL DEFAULT '',
    created   bigint NOT NULL,
    PRIMARY KEY (community, account)
);

CREATE TABLE password_resets (
    token_hash bytea PRIMARY KEY,
    account    text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_by text NOT NULL,
    created    bigint NOT NULL,
    expires    bigint NOT NULL,
    used       bigint NOT NULL DEFAULT 0
);
