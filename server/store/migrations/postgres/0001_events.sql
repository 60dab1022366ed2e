-- The append-only event log. Rows are immutable: the only change allowed is
-- erasing a body (body -> NULL) for privacy, which leaves digest and hash.
CREATE TABLE events (
    stream  text   NOT NULL,
    seq     bigint NOT NULL CHECK (seq > 0),
    ts      bigint NOT NULL,
    actor   text,
    type    text   NOT NULL,
    subject bigint,
    body    bytea,
    digest  bytea  NOT NULL,
    hash    bytea  NOT NULL,
    PRIMARY KEY (stream, seq)
);

CREATE INDEX events_by_type ON events (stream, type, seq);
CREATE INDEX events_by_subject ON events (stream, subject) WHERE subject IS NOT NULL;

-- Each stream's head. Appends lock its row (SELECT ... FOR UPDATE), so the
-- processes writing one stream take turns and seqs have no gaps.
CREATE TABLE streams (
    stream text   PRIMARY KEY,
    seq    bigint NOT NULL,
    hash   bytea  NOT NULL
);

CREATE FUNCTION events_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'events are append-only';
    END IF;
    IF NEW.body IS NULL AND OLD.body IS NOT NULL
       AND NEW.stream = OLD.stream AND NEW.seq = OLD.seq AND NEW.ts = OLD.ts
       AND NEW.actor IS NOT DISTINCT FROM OLD.actor AND NEW.type = OLD.type
       AND NEW.subject IS NOT DISTINCT FROM OLD.subject
       AND NEW.digest = OLD.digest AND NEW.hash = OLD.hash THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'events are immutable (only a body may be erased)';
END
$$;

CREATE TRIGGER events_immutable BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_immutable();

CREATE TABLE commands (
    member text   NOT NULL,
    ref    text   NOT NULL,
    stream text   NOT NULL,
    seq    bigint NOT NULL,
    PRIMARY KEY (member, ref)
);

CREATE TABLE members (
    id      text   PRIMARY KEY,
    name    text   NOT NULL,
    created bigint NOT NULL
);

CREATE TABLE sessions (
    token_hash bytea  PRIMARY KEY,
    member     text   NOT NULL REFERENCES members (id),
    created    bigint NOT NULL
);
