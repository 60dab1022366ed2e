-- Full-text search over the repertoire: artefacts (one row each, seq 0, its latest
-- revision's title and markdown) and transcript lines (one row per line said: chat,
-- notes, captions, questions, case prompts). A line whose event is erased keeps its
-- row with no text (deleted = 1). version: the seq of the event whose text is indexed.
-- The title weighs A, the text D, so a title match ranks above a text match.
CREATE TABLE search_docs (
    stream   text    NOT NULL,
    seq      bigint  NOT NULL,
    kind     text    NOT NULL,
    question integer,
    who      text    NOT NULL,
    ts       bigint  NOT NULL,
    version  bigint  NOT NULL,
    deleted  integer NOT NULL DEFAULT 0,
    title    text    NOT NULL,
    text     text    NOT NULL,
    doc      tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', title), 'A')
        || setweight(to_tsvector('simple', text), 'D')) STORED,
    PRIMARY KEY (stream, seq)
);

CREATE INDEX search_docs_version ON search_docs (stream, version);
CREATE INDEX search_docs_doc ON search_docs USING GIN (doc);
