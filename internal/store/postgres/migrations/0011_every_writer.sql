-- What the randomized writers test (internal/writers) found other programs'
-- writes could make the answer miss, against an oracle reading only the
-- base tables. The same number as SQLite's migration of the same purpose.
--
-- 1. Version stamps a restore cannot make repeat. A dump restored sets the
--    sequence fragment_versions back: the next writes took versions already
--    used before the restore for other contents, and every running instance
--    went on serving the (id, version) it had cached, the pre-restore
--    answer, forever. A stamp is now the wall clock in microseconds, and an
--    update also more than the row's last one (the row is locked): a stamp
--    taken after a restore is later than every stamp of that row taken
--    before it, unless the clock was stepped back past them (or one row was
--    updated more than once a microsecond for as long as that lasted).
--    Stamps need only differ per row: they key (id, version).
CREATE OR REPLACE FUNCTION fragment_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        NEW.version := greatest(OLD.version + 1, micros(clock_timestamp()));
    ELSE
        NEW.version := micros(clock_timestamp());
    END IF;
    RETURN NEW;
END $$;

-- 2. refresh_derived (0008) computed the new value in the snapshot of its
--    UPDATE, taken before the UPDATE waited for the row's lock: two
--    transactions each deleting one role link of a membership each computed
--    the roles as of before the other's delete, and the second to commit
--    left role_refs naming the role the first deleted (organization:admin
--    kept that way is the admin bypass). The rows are now locked by a
--    statement of their own; the UPDATE after it takes its snapshot once
--    the locks are held, so it sees whatever the lock waited for.
CREATE OR REPLACE FUNCTION refresh_derived(tbl regclass, col name, derive regproc, ids bigint[]) RETURNS void
LANGUAGE plpgsql SET jit = off AS $$
BEGIN
    EXECUTE format('SELECT 1 FROM %1$s t WHERE t.id = ANY ($1) ORDER BY t.id FOR NO KEY UPDATE', tbl) USING ids;
    EXECUTE format('UPDATE %1$s t SET %2$I = %3$s(t.id) FROM (SELECT DISTINCT id FROM unnest($1) id) m
                     WHERE t.id = m.id AND t.%2$I IS DISTINCT FROM %3$s(t.id)', tbl, col, derive) USING ids;
END $$;

-- 3. Rows deleted outright or inserted again. 0006 dropped the foreign keys
--    of the link tables, so a role, a segment or a membership can go with
--    its links left behind, and come back (the same id inserted) to find
--    them: the memberships holding a deleted role kept it (a running
--    instance showed it, a fresh one dropped the membership; an
--    organization role's organization:admin stayed the admin bypass), and
--    one inserted again did not get it back. A statement trigger on each
--    refreshes what its rows' links reach. The loader's own transaction
--    (memberships.load, 0008) writes these columns itself, and writes roles
--    and memberships before their links.
CREATE FUNCTION roles_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'workspace_roles' THEN
        PERFORM refresh_role_refs(ARRAY(
            SELECT DISTINCT wr.workspace_membership_id FROM workspace_membership_roles wr
              JOIN changed_roles r ON r.id = wr.workspace_role_id));
    ELSE
        PERFORM refresh_permissions(ARRAY(
            SELECT DISTINCT orl.organization_membership_id FROM organization_membership_roles orl
              JOIN changed_roles r ON r.id = orl.organization_role_id));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER workspace_roles_deleted AFTER DELETE ON workspace_roles
    REFERENCING OLD TABLE AS changed_roles FOR EACH STATEMENT EXECUTE FUNCTION roles_changed();
CREATE TRIGGER organization_roles_deleted AFTER DELETE ON organization_roles
    REFERENCING OLD TABLE AS changed_roles FOR EACH STATEMENT EXECUTE FUNCTION roles_changed();
CREATE TRIGGER workspace_roles_inserted AFTER INSERT ON workspace_roles
    REFERENCING NEW TABLE AS changed_roles FOR EACH STATEMENT
    WHEN (current_setting('memberships.load', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION roles_changed();
CREATE TRIGGER organization_roles_inserted AFTER INSERT ON organization_roles
    REFERENCING NEW TABLE AS changed_roles FOR EACH STATEMENT
    WHEN (current_setting('memberships.load', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION roles_changed();

CREATE FUNCTION memberships_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'workspace_memberships' THEN
        PERFORM refresh_role_refs(ARRAY(
            SELECT DISTINCT wr.workspace_membership_id FROM workspace_membership_roles wr
              JOIN inserted m ON m.id = wr.workspace_membership_id));
    ELSE
        PERFORM refresh_permissions(ARRAY(
            SELECT DISTINCT orl.organization_membership_id FROM organization_membership_roles orl
              JOIN inserted m ON m.id = orl.organization_membership_id));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER workspace_memberships_links AFTER INSERT ON workspace_memberships
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT
    WHEN (current_setting('memberships.load', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION memberships_inserted();
CREATE TRIGGER organization_memberships_links AFTER INSERT ON organization_memberships
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT
    WHEN (current_setting('memberships.load', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION memberships_inserted();

CREATE FUNCTION segments_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE workspaces SET version = version
     WHERE id IN (SELECT l.workspace_id FROM workspace_segments l JOIN inserted s ON s.id = l.segment_id);
    UPDATE organizations SET version = version
     WHERE id IN (SELECT l.organization_id FROM organization_segments l JOIN inserted s ON s.id = l.segment_id);
    RETURN NULL;
END $$;
CREATE TRIGGER segments_inserted AFTER INSERT ON segments
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT
    WHEN (current_setting('memberships.load', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION segments_inserted();

-- 4. TRUNCATE fires no row triggers, and has no transition table: what it
--    empties could have reached any row, so every row that holds something
--    derived from it is refreshed (a TRUNCATE is rare; this is a few passes
--    over the tables).
CREATE FUNCTION truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    CASE TG_TABLE_NAME
    WHEN 'workspace_membership_roles', 'workspace_roles' THEN
        PERFORM refresh_role_refs(ARRAY(SELECT id FROM workspace_memberships WHERE role_refs IS NOT NULL));
    WHEN 'organization_membership_roles', 'organization_roles' THEN
        PERFORM refresh_permissions(ARRAY(SELECT id FROM organization_memberships WHERE permissions IS NOT NULL));
    WHEN 'workspace_segments' THEN
        UPDATE workspaces SET version = version;
    WHEN 'organization_segments' THEN
        UPDATE organizations SET version = version;
    WHEN 'segments' THEN
        UPDATE workspaces SET version = version;
        UPDATE organizations SET version = version;
    WHEN 'workspace_memberships' THEN
        UPDATE workspaces SET member_count = 0 WHERE member_count <> 0;
    WHEN 'organization_memberships' THEN
        UPDATE organizations SET member_count = 0 WHERE member_count <> 0;
    END CASE;
    RETURN NULL;
END $$;
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['workspace_membership_roles', 'workspace_roles', 'organization_membership_roles',
                             'organization_roles', 'workspace_segments', 'organization_segments', 'segments',
                             'workspace_memberships', 'organization_memberships'] LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION truncated()',
                       t || '_truncated', t);
    END LOOP;
END $$;

-- Rows a delete, an insert again or a race already left wrong.
SELECT refresh_role_refs(array_agg(id)) FROM workspace_memberships;
SELECT refresh_permissions(array_agg(id)) FROM organization_memberships;
