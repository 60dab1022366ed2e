-- Full-text search over the repertoire: artefacts (one row each, seq 0, its latest
-- revision's title and markdown) and transcript lines (one row per line said: chat,
-- notes, captions, questions, case prompts). A line whose event is erased keeps its
-- row with no text (deleted = 1). version: the seq of the event whose text is indexed.
CREATE TABLE search_docs (
    id       INTEGER PRIMARY KEY,
    stream   TEXT    NOT NULL,
    seq      INTEGER NOT NULL,
    kind     TEXT    NOT NULL,
    question INTEGER,
    who      TEXT    NOT NULL,
    ts       INTEGER NOT NULL,
    version  INTEGER NOT NULL,
    deleted  INTEGER NOT NULL DEFAULT 0,
    title    TEXT    NOT NULL,
    text     TEXT    NOT NULL,
    UNIQUE (stream, seq)
);

CREATE INDEX search_docs_version ON search_docs (stream, version);

CREATE VIRTUAL TABLE search_docs_fts USING fts5(
    title, text, content = 'search_docs', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 0'
);

CREATE TRIGGER search_docs_ai AFTER INSERT ON search_docs BEGIN
    INSERT INTO search_docs_fts (rowid, title, text) VALUES (new.id, new.title, new.text);
END;

CREATE TRIGGER search_docs_ad AFTER DELETE ON search_docs BEGIN
    INSERT INTO search_docs_fts (search_docs_fts, rowid, title, text)
    VALUES ('delete', old.id, old.title, old.text);
END;

CREATE TRIGGER search_docs_au AFTER UPDATE OF title, text ON search_docs BEGIN
    INSERT INTO search_docs_fts (search_docs_fts, rowid, title, text)
    VALUES ('delete', old.id, old.title, old.text);
    INSERT INTO search_docs_fts (rowid, title, text) VALUES (new.id, new.title, new.text);
END;
