-- A bulk load in a few passes. Seeding 10,000 users × 10 memberships took
-- about 90 s; three things cost most of it.
--
-- 1. Member counts were kept per row (0002): each loaded membership updated
--    its workspace and organization, a new row version (and fragment
--    version) of the same few rows each time. Inserts now add each count
--    once per statement, from the transition table; deletes and updates keep
--    the row triggers of 0002, which touch one membership at a time.
CREATE FUNCTION members_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
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
END $$;
DROP TRIGGER workspace_members_count ON workspace_memberships;
CREATE TRIGGER workspace_members_count AFTER DELETE OR UPDATE OF workspace_id, deleted_at
    ON workspace_memberships FOR EACH ROW EXECUTE FUNCTION workspace_members_count();
CREATE TRIGGER workspace_members_inserted AFTER INSERT ON workspace_memberships
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION members_inserted();
DROP TRIGGER organization_members_count ON organization_memberships;
CREATE TRIGGER organization_members_count AFTER DELETE OR UPDATE OF organization_id, deleted_at
    ON organization_memberships FOR EACH ROW EXECUTE FUNCTION organization_members_count();
CREATE TRIGGER organization_members_inserted AFTER INSERT ON organization_memberships
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION members_inserted();

-- 2. The role references and permissions (0003) were refreshed by joining
--    an aggregate of every link matching `= ANY (ids)`. On tables a load is
--    filling there are no statistics yet: the planner guessed that few roles
--    are live (`deleted_at IS NULL`) and looped over the roles, probing the
--    whole id array for each. Now each membership named is found by its key,
--    its links by theirs and each link's role by its key (a scalar subquery,
--    NULL for a deleted role, which the aggregate skips): no plan to guess.
CREATE OR REPLACE FUNCTION refresh_role_refs(ids bigint[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    UPDATE workspace_memberships wm SET role_refs = (
        SELECT string_agg((SELECT r.id || '.' || r.version FROM workspace_roles r
                            WHERE r.id = wr.workspace_role_id AND r.deleted_at IS NULL), ',')
          FROM workspace_membership_roles wr
         WHERE wr.workspace_membership_id = wm.id)
      FROM (SELECT DISTINCT id FROM unnest(ids) id) m
     WHERE wm.id = m.id;
END $$;
CREATE OR REPLACE FUNCTION refresh_permissions(ids bigint[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    UPDATE organization_memberships om SET permissions = (
        SELECT json_agg(DISTINCT p)::text
          FROM organization_membership_roles orl,
               unnest((SELECT r.permissions FROM organization_roles r
                        WHERE r.id = orl.organization_role_id AND r.deleted_at IS NULL)) p
         WHERE orl.organization_membership_id = om.id)
      FROM (SELECT DISTINCT id FROM unnest(ids) id) m
     WHERE om.id = m.id;
END $$;

-- 3. Foreign keys the composite ones already imply, each one more lookup per
--    loaded row (and again when a refresh above updates a row this
--    transaction inserted). A link's scope column is NOT NULL, so its
--    composite keys (0005) name both ends; a workspace membership's
--    organization membership is that user's (0001), whose user exists.
ALTER TABLE workspace_membership_roles
    DROP CONSTRAINT workspace_membership_roles_workspace_membership_id_fkey,
    DROP CONSTRAINT workspace_membership_roles_workspace_role_id_fkey;
ALTER TABLE organization_membership_roles
    DROP CONSTRAINT organization_membership_roles_organization_membership_id_fkey,
    DROP CONSTRAINT organization_membership_roles_organization_role_id_fkey;
ALTER TABLE workspace_segments
    DROP CONSTRAINT workspace_segments_workspace_id_fkey,
    DROP CONSTRAINT workspace_segments_segment_id_fkey;
ALTER TABLE organization_segments
    DROP CONSTRAINT organization_segments_organization_id_fkey,
    DROP CONSTRAINT organization_segments_segment_id_fkey;
ALTER TABLE workspace_memberships DROP CONSTRAINT workspace_memberships_user_id_fkey;

