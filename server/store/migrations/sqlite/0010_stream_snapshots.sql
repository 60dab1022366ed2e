-- The latest snapshot of a stream's fold, kept every so many events (live sessions),
-- so that a process starting folds the snapshot and the events after it, not the
-- whole stream. Derived from the events, which stay the truth: a lost or stale
-- snapshot only costs a longer fold.
CREATE TABLE stream_snapshots (
    stream TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    body BLOB NOT NULL
);
