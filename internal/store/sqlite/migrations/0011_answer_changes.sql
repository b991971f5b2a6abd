-- The change feed: a row for every write that can change somebody's answer,
-- stamped by fragment_clock (never behind the wall clock, so a restored
-- backup cannot hand a stamp out again). An instance reads the rows after
-- the last it saw, once per revalidating request, and an answer it computed
-- is still the answer while no row names what it shows: a 304 costs one
-- index range, whatever the size of the answer (internal/revalidate).
-- kind: 0 everything, 1 one user's memberships (id: the user), 2 a
-- workspace, 3 an organization, 4 what a deployment's users see (id: the
-- deployment). Triggers (derived.sql) write it and drop rows older than ten
-- minutes, keeping the newest.
CREATE TABLE answer_changes (
    seq  INTEGER NOT NULL,
    kind INTEGER NOT NULL,
    id   INTEGER NOT NULL,
    PRIMARY KEY (seq, kind, id)
) WITHOUT ROWID;

UPDATE fragment_clock SET n = max(n + 1, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
INSERT INTO answer_changes SELECT n, 0, 0 FROM fragment_clock;
