-- Projections: read models kept from committed events (server/projections/).
-- Each projection remembers, per stream, the last seq it has applied, so it
-- catches up from there on start and can be dropped and rebuilt from the streams.
CREATE TABLE projection_cursors (
    projection text   NOT NULL,
    stream     text   NOT NULL,
    seq        bigint NOT NULL,
    PRIMARY KEY (projection, stream)
);

-- Full-text search over room messages: one row per message with its latest text.
-- A deleted or erased message stays as a row with no text (deleted = 1), so that a
-- late copy of its post cannot bring it back. version: the seq of the event whose
-- text is indexed (the post or its latest edit).
CREATE TABLE search_messages (
    stream      text    NOT NULL,
    seq         bigint  NOT NULL,
    author      text    NOT NULL,
    author_name text    NOT NULL,
    ts          bigint  NOT NULL,
    version     bigint  NOT NULL,
    deleted     integer NOT NULL DEFAULT 0,
    text        text    NOT NULL,
    doc         tsvector GENERATED ALWAYS AS (to_tsvector('simple', text)) STORED,
    PRIMARY KEY (stream, seq)
);

CREATE INDEX search_messages_version ON search_messages (stream, version);

-- Erased bodies are rare: this index holds only them, so projections find what an
-- erasure changed without reading every event.
CREATE INDEX events_erased ON events (stream, seq) WHERE body IS NULL;

CREATE INDEX search_messages_doc ON search_messages USING GIN (doc);
