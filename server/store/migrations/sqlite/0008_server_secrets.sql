-- Secrets the server keeps for itself, the same for every process of a deployment
-- (made once, on first use): "session_owner" keys the hash that recognises the asker
-- of an anonymous question without naming them.
CREATE TABLE server_secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
