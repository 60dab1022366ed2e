-- Projections: read models kept from committed events (server/projections/).
-- Each projection remembers, per stream, the last seq it has applied, so it
-- catches up from there on start and can be dropped and rebuilt from the streams.
CREATE TABLE projection_cursors (
    projection TEXT    NOT NULL,
    stream     TEXT    NOT NULL,
    seq        INTEGER NOT NULL,
    PRIMARY KEY (projection, stream)
) WITHOUT ROWID;

-- Full-text search over room messages: one row per message with its latest text.
-- A deleted or erased message stays as a row with no text (deleted = 1), so that a
-- late copy of its post cannot bring it back. version: the seq of the event whose
-- text is indexed (the post or its latest edit).
CREATE TABLE search_messages (
    id          INTEGER PRIMARY KEY,
    stream      TEXT    NOT NULL,
    seq         INTEGER NOT NULL,
    author      TEXT    NOT NULL,
    author_name TEXT    NOT NULL,
    ts          INTEGER NOT NULL,
    version     INTEGER NOT NULL,
    deleted     INTEGER NOT NULL DEFAULT 0,
    text        TEXT    NOT NULL,
    UNIQUE (stream, seq)
);

CREATE INDEX search_messages_version ON search_messages (stream, version);

-- Erased bodies are rare: this index holds only them, so projections find what an
-- erasure changed without reading every event.
CREATE INDEX events_erased ON events (stream, seq) WHERE body IS NULL;

CREATE VIRTUAL TABLE search_fts USING fts5(
    text, content = 'search_messages', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 0'
);

CREATE TRIGGER search_messages_ai AFTER INSERT ON search_messages BEGIN
    INSERT INTO search_fts (rowid, text) VALUES (new.id, new.text);
END;

CREATE TRIGGER search_messages_ad AFTER DELETE ON search_messages BEGIN
    INSERT INTO search_fts (search_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;

CREATE TRIGGER search_messages_au AFTER UPDATE OF text ON search_messages BEGIN
    INSERT INTO search_fts (search_fts, rowid, text) VALUES ('delete', old.id, old.text);
    INSERT INTO search_fts (rowid, text) VALUES (new.id, new.text);
END;
