-- Pair-ups (issue 13): what the matcher reads about a community's history, kept by the
-- "pairings" projection (server/projections/pairings.py) from session streams, and each
-- member's private "do not pair me with" list (server/actions/pair_blocks.py).

-- The community (and room, title) of each session the projection has seen opened: later
-- events of the stream name only the session, and find their community here.
CREATE TABLE pair_sessions (
    session   text    PRIMARY KEY,
    community text    NOT NULL,
    room      text    NOT NULL,
    title     text    NOT NULL
);

-- Two people shared a group in a round of pair-ups (a trio is three rows); a < b.
-- ts: when they first shared it in that round (pairs_made, or pairs_changed for a late
-- arrival).
CREATE TABLE pair_meetings (
    community text    NOT NULL,
    session   text    NOT NULL,
    round     integer NOT NULL,
    a         text    NOT NULL,
    b         text    NOT NULL,
    ts        bigint  NOT NULL,
    PRIMARY KEY (session, round, a, b)
);

-- Sessions from before pairs_made paired at a segment's start (session_started and
-- segment_changed "pairs"): each such event is a round, numbered in stream order as the
-- session's fold numbers it; this marks which events they were.
CREATE TABLE pair_legacy_rounds (
    session   text    NOT NULL,
    seq       bigint  NOT NULL,
    PRIMARY KEY (session, seq)
);

CREATE INDEX pair_meetings_community ON pair_meetings (community, ts);
CREATE INDEX pair_meetings_a ON pair_meetings (community, a, ts);
CREATE INDEX pair_meetings_b ON pair_meetings (community, b, ts);

-- Who attended which session (attendee_arrived), and whether they were on stage in it
-- (stage_changed on): one row per session and person, so applying an event twice
-- changes nothing. name: as they attended (guests are in no community fold); seq: of
-- the attendee_arrived event it came from (0: from stage_changed), so an erased body
-- takes its name along.
CREATE TABLE pair_attendance (
    community text    NOT NULL,
    member    text    NOT NULL,
    session   text    NOT NULL,
    name      text    NOT NULL,
    ts        bigint  NOT NULL,
    presented integer NOT NULL DEFAULT 0,
    seq       bigint  NOT NULL DEFAULT 0,
    PRIMARY KEY (community, member, session)
);

CREATE INDEX pair_attendance_session ON pair_attendance (session, member);

-- Experience as the streams show it, per member and community.
CREATE VIEW practice AS
    SELECT community, member, count(*) AS sessions_attended,
           sum(presented) AS times_presented, min(ts) AS first_seen_ms
    FROM pair_attendance GROUP BY community, member;

-- A member's private "do not pair me with" list: never in a shared stream, so nobody
-- learns who blocked them.
CREATE TABLE pair_blocks (
    community text    NOT NULL,
    member    text    NOT NULL,
    other     text    NOT NULL,
    created   bigint  NOT NULL,
    PRIMARY KEY (community, member, other)
);
