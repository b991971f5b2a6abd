-- Sessions that stay signed in.
--
-- The Domain of the session cookie, per deployment; rows loaded before it
-- existed get the load format's default, the primary host without a leading
-- "frontend.".
ALTER TABLE deployments ADD COLUMN cookie_domain text NOT NULL DEFAULT '';
UPDATE deployments SET cookie_domain = CASE WHEN host LIKE 'frontend.%' THEN substr(host, 10) ELSE host END;

-- The rotating token the last refresh handed out, until a request presents
-- it: a client may never have received it, so presenting its predecessor
-- again is not yet reuse.
ALTER TABLE sessions ADD COLUMN pending_token_id bigint REFERENCES rotating_tokens (id);

-- Id node leases (internal/ids): a holder mints on node until until_ms
-- (milliseconds since the ids' epoch) and renews before going past it.
CREATE TABLE id_nodes (
    node     integer PRIMARY KEY CHECK (node BETWEEN 0 AND 1023),
    holder   text    NOT NULL,
    until_ms bigint  NOT NULL
);
