-- The append-only event log. Rows are immutable: the only change allowed is
-- erasing a body (body -> NULL) for privacy, which leaves digest and hash.
CREATE TABLE events (
    stream  TEXT    NOT NULL,
    seq     INTEGER NOT NULL CHECK (seq > 0),
    ts      INTEGER NOT NULL,
    actor   TEXT,
    type    TEXT    NOT NULL,
    subject INTEGER,
    body    BLOB,
    digest  BLOB    NOT NULL,
    hash    BLOB    NOT NULL,
    PRIMARY KEY (stream, seq)
) WITHOUT ROWID;

CREATE INDEX events_by_type ON events (stream, type, seq);
CREATE INDEX events_by_subject ON events (stream, subject) WHERE subject IS NOT NULL;

CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;

CREATE TRIGGER events_no_update BEFORE UPDATE ON events
WHEN NOT (
    NEW.body IS NULL AND OLD.body IS NOT NULL
    AND NEW.stream = OLD.stream AND NEW.seq = OLD.seq AND NEW.ts = OLD.ts
    AND NEW.actor IS OLD.actor AND NEW.type = OLD.type AND NEW.subject IS OLD.subject
    AND NEW.digest = OLD.digest AND NEW.hash = OLD.hash
)
BEGIN
    SELECT RAISE(ABORT, 'events are immutable (only a body may be erased)');
END;

-- Which (member, ref) commands were applied, so a repeated ref is answered
-- with the same result instead of being applied twice.
CREATE TABLE commands (
    member TEXT    NOT NULL,
    ref    TEXT    NOT NULL,
    stream TEXT    NOT NULL,
    seq    INTEGER NOT NULL,
    PRIMARY KEY (member, ref)
) WITHOUT ROWID;

-- Display-name sessions until accounts arrive; the token is stored hashed.
CREATE TABLE members (
    id      TEXT PRIMARY KEY,
    name    TEXT NOT NULL,
    created INTEGER NOT NULL
);

CREATE TABLE sessions (
    token_hash BLOB PRIMARY KEY,
    member     TEXT NOT NULL REFERENCES members (id),
    created    INTEGER NOT NULL
);
