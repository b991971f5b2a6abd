-- The change feed: a row for every write that can change somebody's answer.
-- An instance reads the rows after the last it saw, once per revalidating
-- request, and an answer it computed is still the answer while no row names
-- what it shows: a 304 costs one index range, whatever the size of the
-- answer (internal/revalidate).
-- kind: 0 everything, 1 one user's memberships (id: the user), 2 a
-- workspace, 3 an organization, 4 what a deployment's users see (id: the
-- deployment).
--
-- A reader that has seen a row must have seen every row stamped before it,
-- whichever transaction commits first. So the triggers (derived.sql) note
-- rows with a placeholder (minus the transaction id), and a deferred trigger
-- stamps them at commit from answer_clock under a transaction advisory
-- lock, held until the commit ends: stamps follow commit order. A sequence,
-- not a row, so that REPEATABLE READ and SERIALIZABLE writers do not
-- conflict on it. The clock never runs behind the wall clock, so a restored
-- dump cannot hand a stamp out again. Rows older than ten minutes are
-- dropped, keeping the newest.
CREATE TABLE answer_changes (
    seq  bigint   NOT NULL,
    kind smallint NOT NULL,
    id   bigint   NOT NULL,
    PRIMARY KEY (seq, kind, id)
);

CREATE SEQUENCE answer_clock;
SELECT setval('answer_clock', (extract(epoch FROM clock_timestamp()) * 1000000)::bigint);
INSERT INTO answer_changes VALUES (currval('answer_clock'), 0, 0);
