-- The derived schema of PostgreSQL: every trigger and the functions they
-- run, in one place. The numbered migrations hold tables, columns and
-- backfills; what keeps the columns derived from other rows (role_refs,
-- permissions, the organization membership on workspace membership rows,
-- member counts, version stamps, link scopes) are these triggers, whoever
-- writes.
--
-- Migrate applies this file after the migrations whenever its checksum
-- differs from the one recorded in schema_derived, in one transaction under
-- the migration lock: it drops every trigger of the schema, runs this file
-- (functions are replaced, so statements running meanwhile keep theirs),
-- and recomputes every derived column (the end of the file). Edit it in
-- place; never put a trigger or a function in a migration. A function no
-- longer used is dropped by a migration. See docs/schema.md.
--
-- It is written against the schema as of this migration, and applied only
-- once that migration is:
-- schema: 0011_answer_changes
--
-- Triggers of one event fire in name order.

-- Version stamps (internal/store/fragment keys encodings by (id, version)):
-- the wall clock in microseconds, and an update more than the row's last
-- (the row is locked), so a restored dump, which sets the old sequence back,
-- cannot make a row's stamp repeat (unless the clock stepped back past it).
CREATE OR REPLACE FUNCTION fragment_version()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        NEW.version := greatest(OLD.version + 1, micros(clock_timestamp()));
    ELSE
        NEW.version := micros(clock_timestamp());
    END IF;
    RETURN NEW;
END $function$
;

CREATE OR REPLACE FUNCTION link_scope()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    CASE TG_TABLE_NAME
    WHEN 'workspace_membership_roles' THEN
        NEW.workspace_id := (SELECT workspace_id FROM workspace_memberships WHERE id = NEW.workspace_membership_id);
    WHEN 'organization_membership_roles' THEN
        NEW.organization_id := (SELECT organization_id FROM organization_memberships WHERE id = NEW.organization_membership_id);
    WHEN 'organization_segments' THEN
        NEW.deployment_id := (SELECT deployment_id FROM organizations WHERE id = NEW.organization_id);
    WHEN 'workspace_segments' THEN
        NEW.deployment_id := (SELECT deployment_id FROM workspaces WHERE id = NEW.workspace_id);
    END CASE;
    RETURN NEW;
END $function$
;

CREATE OR REPLACE FUNCTION members_inserted()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    IF TG_TABLE_NAME = 'workspace_memberships' THEN
        UPDATE workspaces w SET member_count = w.member_count + n.c
          FROM (SELECT workspace_id AS id, count(*) AS c FROM inserted WHERE deleted_at IS NULL GROUP BY 1) n
         WHERE w.id = n.id;
    ELSE
        UPDATE organizations o SET member_count = o.member_count + n.c
          FROM (SELECT organization_id AS id, count(*) AS c FROM inserted WHERE deleted_at IS NULL GROUP BY 1) n
         WHERE o.id = n.id;
    END IF;
    RETURN NULL;
END $function$
;

CREATE OR REPLACE FUNCTION memberships_inserted()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
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
END $function$
;

CREATE OR REPLACE FUNCTION micros(timestamp with time zone)
 RETURNS bigint
 LANGUAGE sql
 IMMUTABLE PARALLEL SAFE
AS $function$ SELECT (extract(epoch FROM $1) * 1000000)::bigint $function$
;

CREATE OR REPLACE FUNCTION organization_members_count()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.deleted_at IS NULL THEN
        UPDATE organizations SET member_count = member_count - 1 WHERE id = OLD.organization_id;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.deleted_at IS NULL THEN
        UPDATE organizations SET member_count = member_count + 1 WHERE id = NEW.organization_id;
    END IF;
    RETURN NULL;
END $function$
;

CREATE OR REPLACE FUNCTION organization_membership_on_rows()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    UPDATE workspace_memberships wm
       SET (organization_membership_live, organization_permissions) = (om.deleted_at IS NULL, om.permissions)
      FROM organization_memberships om
     WHERE om.id = NEW.id AND wm.user_id = NEW.user_id AND wm.organization_membership_id = NEW.id
       AND wm.deleted_at IS NULL;
    RETURN NULL;
END $function$
;

CREATE OR REPLACE FUNCTION organization_membership_roles_permissions()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM refresh_permissions(ARRAY(SELECT DISTINCT organization_membership_id FROM old_links));
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        PERFORM refresh_permissions(ARRAY(SELECT DISTINCT organization_membership_id FROM new_links));
    END IF;
    RETURN NULL;
END $function$
;

CREATE OR REPLACE FUNCTION organization_roles_permissions()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    PERFORM refresh_permissions(ARRAY(
        SELECT DISTINCT orl.organization_membership_id FROM organization_membership_roles orl
          JOIN new_roles r ON r.id = orl.organization_role_id));
    RETURN NULL;
END $function$
;

CREATE OR REPLACE FUNCTION organization_segments_version()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    UPDATE organizations SET version = version WHERE id IN (
        SELECT organization_id FROM (VALUES (OLD.organization_id), (NEW.organization_id)) AS t (organization_id));
    RETURN NULL;
END $function$
;

CREATE OR REPLACE FUNCTION permissions_of(membership bigint)
 RETURNS text
 LANGUAGE sql
 STABLE
AS $function$
    SELECT json_agg(DISTINCT p COLLATE "C")::text
      FROM organization_membership_roles orl,
           unnest((SELECT r.permissions FROM organization_roles r
                    WHERE r.id = orl.organization_role_id AND r.deleted_at IS NULL)) p
     WHERE orl.organization_membership_id = membership $function$
;

-- refresh_derived sets col of the rows of tbl among ids to derive(id) where
-- it differs. The rows are locked by a statement of their own first: the
-- UPDATE then takes its snapshot once the locks are held and sees what a
-- concurrent writer of the same rows committed (two concurrent deletes of a
-- membership's role links each computed the roles as of before the other's).
CREATE OR REPLACE FUNCTION refresh_derived(tbl regclass, col name, derive regproc, ids bigint[])
 RETURNS void
 LANGUAGE plpgsql
 SET jit TO 'off'
AS $function$
BEGIN
    EXECUTE format('SELECT 1 FROM %1$s t WHERE t.id = ANY ($1) ORDER BY t.id FOR NO KEY UPDATE', tbl) USING ids;
    EXECUTE format('UPDATE %1$s t SET %2$I = %3$s(t.id) FROM (SELECT DISTINCT id FROM unnest($1) id) m
                     WHERE t.id = m.id AND t.%2$I IS DISTINCT FROM %3$s(t.id)', tbl, col, derive) USING ids;
END $function$
;

CREATE OR REPLACE FUNCTION refresh_permissions(ids bigint[])
 RETURNS void
 LANGUAGE sql
AS $function$
    SELECT refresh_derived('organization_memberships', 'permissions', 'permissions_of', ids) $function$
;

CREATE OR REPLACE FUNCTION refresh_role_refs(ids bigint[])
 RETURNS void
 LANGUAGE sql
AS $function$
    SELECT refresh_derived('workspace_memberships', 'role_refs', 'role_refs_of', ids) $function$
;

CREATE OR REPLACE FUNCTION role_refs_of(membership bigint)
 RETURNS text
 LANGUAGE sql
 STABLE
AS $function$
    SELECT string_agg((SELECT r.id || '.' || r.version FROM workspace_roles r
                        WHERE r.id = wr.workspace_role_id AND r.deleted_at IS NULL), ',' ORDER BY wr.workspace_role_id)
      FROM workspace_membership_roles wr
     WHERE wr.workspace_membership_id = membership $function$
;

CREATE OR REPLACE FUNCTION roles_changed()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
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
END $function$
;

CREATE OR REPLACE FUNCTION segments_inserted()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    UPDATE workspaces SET version = version
     WHERE id IN (SELECT l.workspace_id FROM workspace_segments l JOIN inserted s ON s.id = l.segment_id);
    UPDATE organizations SET version = version
     WHERE id IN (SELECT l.organization_id FROM organization_segments l JOIN inserted s ON s.id = l.segment_id);
    RETURN NULL;
END $function$
;

CREATE OR REPLACE FUNCTION segments_version()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    UPDATE workspaces SET version = version
     WHERE id IN (SELECT workspace_id FROM workspace_segments WHERE segment_id = OLD.id);
    UPDATE organizations SET version = version
     WHERE id IN (SELECT organization_id FROM organization_segments WHERE segment_id = OLD.id);
    RETURN NULL;
END $function$
;

-- TRUNCATE fires no row triggers and has no transition table: every row
-- holding something derived from the emptied table is refreshed.
CREATE OR REPLACE FUNCTION truncated()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
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
END $function$
;

CREATE OR REPLACE FUNCTION workspace_members_count()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.deleted_at IS NULL THEN
        UPDATE workspaces SET member_count = member_count - 1 WHERE id = OLD.workspace_id;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.deleted_at IS NULL THEN
        UPDATE workspaces SET member_count = member_count + 1 WHERE id = NEW.workspace_id;
    END IF;
    RETURN NULL;
END $function$
;

CREATE OR REPLACE FUNCTION workspace_membership_organization()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    SELECT om.deleted_at IS NULL, om.permissions
      INTO NEW.organization_membership_live, NEW.organization_permissions
      FROM organization_memberships om WHERE om.id = NEW.organization_membership_id
       FOR SHARE;
    NEW.organization_membership_live := coalesce(NEW.organization_membership_live, true);
    RETURN NEW;
END $function$
;

CREATE OR REPLACE FUNCTION workspace_membership_roles_refs()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM refresh_role_refs(ARRAY(SELECT DISTINCT workspace_membership_id FROM old_links));
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        PERFORM refresh_role_refs(ARRAY(SELECT DISTINCT workspace_membership_id FROM new_links));
    END IF;
    RETURN NULL;
END $function$
;

CREATE OR REPLACE FUNCTION workspace_roles_refs()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    PERFORM refresh_role_refs(ARRAY(
        SELECT DISTINCT wr.workspace_membership_id FROM workspace_membership_roles wr
          JOIN new_roles r ON r.id = wr.workspace_role_id));
    RETURN NULL;
END $function$
;

CREATE OR REPLACE FUNCTION workspace_segments_version()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    UPDATE workspaces SET version = version WHERE id IN (
        SELECT workspace_id FROM (VALUES (OLD.workspace_id), (NEW.workspace_id)) AS t (workspace_id));
    RETURN NULL;
END $function$
;

CREATE TRIGGER organization_membership_roles_permissions_delete AFTER DELETE ON organization_membership_roles REFERENCING OLD TABLE AS old_links FOR EACH STATEMENT EXECUTE FUNCTION organization_membership_roles_permissions();
CREATE TRIGGER organization_membership_roles_permissions_insert AFTER INSERT ON organization_membership_roles REFERENCING NEW TABLE AS new_links FOR EACH STATEMENT WHEN ((current_setting('memberships.load'::text, true) IS DISTINCT FROM 'on'::text)) EXECUTE FUNCTION organization_membership_roles_permissions();
CREATE TRIGGER organization_membership_roles_permissions_update AFTER UPDATE ON organization_membership_roles REFERENCING OLD TABLE AS old_links NEW TABLE AS new_links FOR EACH STATEMENT EXECUTE FUNCTION organization_membership_roles_permissions();
CREATE TRIGGER organization_membership_roles_scope BEFORE UPDATE ON organization_membership_roles FOR EACH ROW EXECUTE FUNCTION link_scope();
CREATE TRIGGER organization_membership_roles_scope_insert BEFORE INSERT ON organization_membership_roles FOR EACH ROW WHEN ((new.organization_id IS NULL)) EXECUTE FUNCTION link_scope();
CREATE TRIGGER organization_membership_roles_truncated AFTER TRUNCATE ON organization_membership_roles FOR EACH STATEMENT EXECUTE FUNCTION truncated();
CREATE TRIGGER organization_members_count AFTER DELETE OR UPDATE OF organization_id, deleted_at ON organization_memberships FOR EACH ROW EXECUTE FUNCTION organization_members_count();
CREATE TRIGGER organization_members_inserted AFTER INSERT ON organization_memberships REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION members_inserted();
CREATE TRIGGER organization_memberships_links AFTER INSERT ON organization_memberships REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT WHEN ((current_setting('memberships.load'::text, true) IS DISTINCT FROM 'on'::text)) EXECUTE FUNCTION memberships_inserted();
CREATE TRIGGER organization_memberships_on_rows AFTER UPDATE OF permissions, deleted_at ON organization_memberships FOR EACH ROW WHEN (((old.permissions IS DISTINCT FROM new.permissions) OR ((old.deleted_at IS NULL) <> (new.deleted_at IS NULL)))) EXECUTE FUNCTION organization_membership_on_rows();
CREATE TRIGGER organization_memberships_truncated AFTER TRUNCATE ON organization_memberships FOR EACH STATEMENT EXECUTE FUNCTION truncated();
CREATE TRIGGER organization_roles_deleted AFTER DELETE ON organization_roles REFERENCING OLD TABLE AS changed_roles FOR EACH STATEMENT EXECUTE FUNCTION roles_changed();
CREATE TRIGGER organization_roles_inserted AFTER INSERT ON organization_roles REFERENCING NEW TABLE AS changed_roles FOR EACH STATEMENT WHEN ((current_setting('memberships.load'::text, true) IS DISTINCT FROM 'on'::text)) EXECUTE FUNCTION roles_changed();
CREATE TRIGGER organization_roles_permissions AFTER UPDATE ON organization_roles REFERENCING NEW TABLE AS new_roles FOR EACH STATEMENT EXECUTE FUNCTION organization_roles_permissions();
CREATE TRIGGER organization_roles_truncated AFTER TRUNCATE ON organization_roles FOR EACH STATEMENT EXECUTE FUNCTION truncated();
CREATE TRIGGER organization_segments_scope BEFORE UPDATE ON organization_segments FOR EACH ROW EXECUTE FUNCTION link_scope();
CREATE TRIGGER organization_segments_scope_insert BEFORE INSERT ON organization_segments FOR EACH ROW WHEN ((new.deployment_id IS NULL)) EXECUTE FUNCTION link_scope();
CREATE TRIGGER organization_segments_truncated AFTER TRUNCATE ON organization_segments FOR EACH STATEMENT EXECUTE FUNCTION truncated();
CREATE TRIGGER organization_segments_version AFTER INSERT OR DELETE OR UPDATE ON organization_segments FOR EACH ROW EXECUTE FUNCTION organization_segments_version();
CREATE TRIGGER organizations_version BEFORE INSERT OR UPDATE ON organizations FOR EACH ROW EXECUTE FUNCTION fragment_version();
CREATE TRIGGER segments_inserted AFTER INSERT ON segments REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT WHEN ((current_setting('memberships.load'::text, true) IS DISTINCT FROM 'on'::text)) EXECUTE FUNCTION segments_inserted();
CREATE TRIGGER segments_truncated AFTER TRUNCATE ON segments FOR EACH STATEMENT EXECUTE FUNCTION truncated();
CREATE TRIGGER segments_version AFTER DELETE OR UPDATE ON segments FOR EACH ROW EXECUTE FUNCTION segments_version();
CREATE TRIGGER workspace_membership_roles_refs_delete AFTER DELETE ON workspace_membership_roles REFERENCING OLD TABLE AS old_links FOR EACH STATEMENT EXECUTE FUNCTION workspace_membership_roles_refs();
CREATE TRIGGER workspace_membership_roles_refs_insert AFTER INSERT ON workspace_membership_roles REFERENCING NEW TABLE AS new_links FOR EACH STATEMENT WHEN ((current_setting('memberships.load'::text, true) IS DISTINCT FROM 'on'::text)) EXECUTE FUNCTION workspace_membership_roles_refs();
CREATE TRIGGER workspace_membership_roles_refs_update AFTER UPDATE ON workspace_membership_roles REFERENCING OLD TABLE AS old_links NEW TABLE AS new_links FOR EACH STATEMENT EXECUTE FUNCTION workspace_membership_roles_refs();
CREATE TRIGGER workspace_membership_roles_scope BEFORE UPDATE ON workspace_membership_roles FOR EACH ROW EXECUTE FUNCTION link_scope();
CREATE TRIGGER workspace_membership_roles_scope_insert BEFORE INSERT ON workspace_membership_roles FOR EACH ROW WHEN ((new.workspace_id IS NULL)) EXECUTE FUNCTION link_scope();
CREATE TRIGGER workspace_membership_roles_truncated AFTER TRUNCATE ON workspace_membership_roles FOR EACH STATEMENT EXECUTE FUNCTION truncated();
CREATE TRIGGER workspace_members_count AFTER DELETE OR UPDATE OF workspace_id, deleted_at ON workspace_memberships FOR EACH ROW EXECUTE FUNCTION workspace_members_count();
CREATE TRIGGER workspace_members_inserted AFTER INSERT ON workspace_memberships REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION members_inserted();
CREATE TRIGGER workspace_memberships_links AFTER INSERT ON workspace_memberships REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT WHEN ((current_setting('memberships.load'::text, true) IS DISTINCT FROM 'on'::text)) EXECUTE FUNCTION memberships_inserted();
CREATE TRIGGER workspace_memberships_organization BEFORE INSERT OR UPDATE OF organization_membership_id, deleted_at ON workspace_memberships FOR EACH ROW WHEN ((new.deleted_at IS NULL)) EXECUTE FUNCTION workspace_membership_organization();
CREATE TRIGGER workspace_memberships_truncated AFTER TRUNCATE ON workspace_memberships FOR EACH STATEMENT EXECUTE FUNCTION truncated();
CREATE TRIGGER workspace_roles_deleted AFTER DELETE ON workspace_roles REFERENCING OLD TABLE AS changed_roles FOR EACH STATEMENT EXECUTE FUNCTION roles_changed();
CREATE TRIGGER workspace_roles_inserted AFTER INSERT ON workspace_roles REFERENCING NEW TABLE AS changed_roles FOR EACH STATEMENT WHEN ((current_setting('memberships.load'::text, true) IS DISTINCT FROM 'on'::text)) EXECUTE FUNCTION roles_changed();
CREATE TRIGGER workspace_roles_refs AFTER UPDATE ON workspace_roles REFERENCING NEW TABLE AS new_roles FOR EACH STATEMENT EXECUTE FUNCTION workspace_roles_refs();
CREATE TRIGGER workspace_roles_truncated AFTER TRUNCATE ON workspace_roles FOR EACH STATEMENT EXECUTE FUNCTION truncated();
CREATE TRIGGER workspace_roles_version BEFORE INSERT OR UPDATE ON workspace_roles FOR EACH ROW EXECUTE FUNCTION fragment_version();
CREATE TRIGGER workspace_segments_scope BEFORE UPDATE ON workspace_segments FOR EACH ROW EXECUTE FUNCTION link_scope();
CREATE TRIGGER workspace_segments_scope_insert BEFORE INSERT ON workspace_segments FOR EACH ROW WHEN ((new.deployment_id IS NULL)) EXECUTE FUNCTION link_scope();
CREATE TRIGGER workspace_segments_truncated AFTER TRUNCATE ON workspace_segments FOR EACH STATEMENT EXECUTE FUNCTION truncated();
CREATE TRIGGER workspace_segments_version AFTER INSERT OR DELETE OR UPDATE ON workspace_segments FOR EACH ROW EXECUTE FUNCTION workspace_segments_version();
CREATE TRIGGER workspaces_version BEFORE INSERT OR UPDATE ON workspaces FOR EACH ROW EXECUTE FUNCTION fragment_version();

-- Recompute every derived column under the triggers above.
SELECT refresh_permissions(array_agg(id)) FROM organization_memberships;
SELECT refresh_role_refs(array_agg(id)) FROM workspace_memberships;
UPDATE workspace_memberships wm
   SET (organization_membership_live, organization_permissions) = (om.deleted_at IS NULL, om.permissions)
  FROM organization_memberships om
 WHERE om.id = wm.organization_membership_id AND wm.deleted_at IS NULL
   AND (wm.organization_membership_live, wm.organization_permissions) IS DISTINCT FROM (om.deleted_at IS NULL, om.permissions);
UPDATE workspaces w SET member_count = c.n
  FROM (SELECT w2.id, count(m.id) AS n FROM workspaces w2
          LEFT JOIN workspace_memberships m ON m.workspace_id = w2.id AND m.deleted_at IS NULL GROUP BY w2.id) c
 WHERE c.id = w.id AND w.member_count <> c.n;
UPDATE organizations o SET member_count = c.n
  FROM (SELECT o2.id, count(m.id) AS n FROM organizations o2
          LEFT JOIN organization_memberships m ON m.organization_id = o2.id AND m.deleted_at IS NULL GROUP BY o2.id) c
 WHERE c.id = o.id AND o.member_count <> c.n;

-- The change feed (migration 0011, internal/revalidate): every write that
-- can change an answer names what it changed. The memberships statement
-- reads a user's workspace membership rows (whatever else changes them:
-- roles, links, organization memberships, they are rewritten by the
-- triggers above) joined to live workspaces and organizations of the
-- deployment, and the fragments those name by version. So: a membership row
-- names its user (before and after); a workspace or an organization names
-- itself, or its deployment when it appears, disappears or moves, which can
-- show or hide rows no answer listed; TRUNCATE names everything. Rows are
-- noted with the placeholder and stamped at commit (answer_changes_stamp).
-- They come last, so that recomputing the derived columns above writes no
-- feed rows; the file's last statement invalidates every answer instead.
CREATE OR REPLACE FUNCTION answer_pending()
 RETURNS bigint
 LANGUAGE sql
AS $function$ SELECT -(pg_current_xact_id()::text::bigint) $function$
;

CREATE OR REPLACE FUNCTION answer_changes_members()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO answer_changes SELECT DISTINCT answer_pending(), 1, user_id FROM new_rows ON CONFLICT DO NOTHING;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO answer_changes SELECT DISTINCT answer_pending(), 1, user_id FROM old_rows ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $function$
;

-- TG_ARGV[0]: the kind naming a row of the table (2 workspace, 3 organization).
CREATE OR REPLACE FUNCTION answer_changes_shared()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
DECLARE
    k smallint := TG_ARGV[0]::smallint;
BEGIN
    CASE TG_OP
    WHEN 'INSERT' THEN
        INSERT INTO answer_changes SELECT DISTINCT answer_pending(), 4, deployment_id FROM new_rows ON CONFLICT DO NOTHING;
    WHEN 'DELETE' THEN
        INSERT INTO answer_changes SELECT DISTINCT answer_pending(), k, id FROM old_rows ON CONFLICT DO NOTHING;
    ELSE
        INSERT INTO answer_changes
        SELECT DISTINCT answer_pending(), k, n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
         WHERE o.deployment_id = n.deployment_id AND o.deleted_at IS NOT DISTINCT FROM n.deleted_at
        ON CONFLICT DO NOTHING;
        INSERT INTO answer_changes
        SELECT DISTINCT answer_pending(), 4, d FROM (
            SELECT n.deployment_id AS d FROM new_rows n LEFT JOIN old_rows o ON o.id = n.id
             WHERE o.id IS NULL OR o.deployment_id <> n.deployment_id OR o.deleted_at IS DISTINCT FROM n.deleted_at
            UNION ALL
            SELECT o.deployment_id FROM old_rows o LEFT JOIN new_rows n ON n.id = o.id
             WHERE n.id IS NULL OR o.deployment_id <> n.deployment_id OR o.deleted_at IS DISTINCT FROM n.deleted_at) t
        ON CONFLICT DO NOTHING;
    END CASE;
    RETURN NULL;
END $function$
;

CREATE OR REPLACE FUNCTION answer_changes_truncated()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    INSERT INTO answer_changes VALUES (answer_pending(), 0, 0) ON CONFLICT DO NOTHING;
    RETURN NULL;
END $function$
;

-- At commit, for each row noted: the first stamps all of the transaction's,
-- one row naming everything in place of more than 256 (a bulk write: so a
-- stamp never holds more rows than a reader reads at once).
CREATE OR REPLACE FUNCTION answer_changes_stamp()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
DECLARE
    s bigint;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM answer_changes WHERE seq = NEW.seq) THEN
        RETURN NULL;
    END IF;
    PERFORM pg_advisory_xact_lock(7305617010711140);
    s := greatest(nextval('answer_clock'), micros(clock_timestamp()));
    PERFORM setval('answer_clock', s);
    IF (SELECT count(*) FROM (SELECT 1 FROM answer_changes WHERE seq = NEW.seq LIMIT 257) t) > 256 THEN
        DELETE FROM answer_changes WHERE seq = NEW.seq;
        INSERT INTO answer_changes VALUES (s, 0, 0);
    ELSE
        UPDATE answer_changes SET seq = s WHERE seq = NEW.seq;
    END IF;
    DELETE FROM answer_changes WHERE seq > 0 AND seq < s - 600000000;
    RETURN NULL;
END $function$
;

CREATE CONSTRAINT TRIGGER answer_changes_stamp AFTER INSERT ON answer_changes DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN ((new.seq < 0)) EXECUTE FUNCTION answer_changes_stamp();
CREATE TRIGGER answer_changes_delete AFTER DELETE ON workspace_memberships REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION answer_changes_members();
CREATE TRIGGER answer_changes_insert AFTER INSERT ON workspace_memberships REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION answer_changes_members();
CREATE TRIGGER answer_changes_truncated AFTER TRUNCATE ON workspace_memberships FOR EACH STATEMENT EXECUTE FUNCTION answer_changes_truncated();
CREATE TRIGGER answer_changes_update AFTER UPDATE ON workspace_memberships REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION answer_changes_members();
CREATE TRIGGER answer_changes_delete AFTER DELETE ON workspaces REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION answer_changes_shared('2');
CREATE TRIGGER answer_changes_insert AFTER INSERT ON workspaces REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION answer_changes_shared('2');
CREATE TRIGGER answer_changes_truncated AFTER TRUNCATE ON workspaces FOR EACH STATEMENT EXECUTE FUNCTION answer_changes_truncated();
CREATE TRIGGER answer_changes_update AFTER UPDATE ON workspaces REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION answer_changes_shared('2');
CREATE TRIGGER answer_changes_delete AFTER DELETE ON organizations REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION answer_changes_shared('3');
CREATE TRIGGER answer_changes_insert AFTER INSERT ON organizations REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION answer_changes_shared('3');
CREATE TRIGGER answer_changes_truncated AFTER TRUNCATE ON organizations FOR EACH STATEMENT EXECUTE FUNCTION answer_changes_truncated();
CREATE TRIGGER answer_changes_update AFTER UPDATE ON organizations REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION answer_changes_shared('3');

INSERT INTO answer_changes VALUES (answer_pending(), 0, 0) ON CONFLICT DO NOTHING;
