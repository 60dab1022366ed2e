-- The answer to each state-changing HTTP call sent with an Idempotency-Key, per member
-- and key, with the digest of what was asked (method, path, body): the same key and
-- payload get the stored answer again; another payload is answered `conflict`.
-- status 0: being applied now (a reservation).
CREATE TABLE http_replies (
    member text NOT NULL,
    key text NOT NULL,
    digest text NOT NULL,
    status int NOT NULL,
    body bytea,
    created bigint NOT NULL,
    PRIMARY KEY (member, key)
);
