-- The organization membership a workspace membership hangs on, kept on the
-- workspace membership's row by triggers: whether it is live and its
-- permissions (0003's column). The memberships statement then reads one row
-- per membership plus its workspace and organization, not a fourth lookup
-- per row: on SQLite each lookup is a b-tree search run by the driver's
-- translated C (BenchmarkMemberships at 1,000 memberships: 7.7 ms before,
-- 5.8 ms after).
--
-- Only live workspace memberships are kept current: the memberships
-- statement reads no other, and one coming back to life (deleted_at set to
-- NULL) is refreshed like a new one.
ALTER TABLE workspace_memberships ADD COLUMN organization_membership_live INTEGER NOT NULL DEFAULT 1
    CHECK (organization_membership_live IN (0, 1));
ALTER TABLE workspace_memberships ADD COLUMN organization_permissions TEXT;

-- Setting the values reads them from the organization membership: one place
-- for the expression. Each trigger reads the row as it is when it runs, so
-- the order in which SQLite fires it and 0003's permissions trigger (both on
-- organization_memberships.permissions) does not matter: whichever runs
-- last leaves the final value.
CREATE TRIGGER workspace_memberships_organization_insert AFTER INSERT ON workspace_memberships
WHEN NEW.deleted_at IS NULL BEGIN
    UPDATE workspace_memberships SET (organization_membership_live, organization_permissions) = (
        SELECT om.deleted_at IS NULL, om.permissions FROM organization_memberships om
         WHERE om.id = NEW.organization_membership_id)
     WHERE id = NEW.id;
END;
CREATE TRIGGER workspace_memberships_organization_update
AFTER UPDATE OF organization_membership_id, deleted_at ON workspace_memberships
WHEN NEW.deleted_at IS NULL BEGIN
    UPDATE workspace_memberships SET (organization_membership_live, organization_permissions) = (
        SELECT om.deleted_at IS NULL, om.permissions FROM organization_memberships om
         WHERE om.id = NEW.organization_membership_id)
     WHERE id = NEW.id;
END;
-- The user's live memberships are found through workspace_memberships_user.
CREATE TRIGGER organization_memberships_on_rows AFTER UPDATE OF permissions, deleted_at ON organization_memberships BEGIN
    UPDATE workspace_memberships SET (organization_membership_live, organization_permissions) = (
        SELECT om.deleted_at IS NULL, om.permissions FROM organization_memberships om WHERE om.id = NEW.id)
     WHERE user_id = NEW.user_id AND deleted_at IS NULL AND organization_membership_id = NEW.id;
END;

-- A row whose organization membership is gone (deleted by a program with
-- foreign keys off) is left to 0009.
UPDATE workspace_memberships SET (organization_membership_live, organization_permissions) = (
    SELECT om.deleted_at IS NULL, om.permissions FROM organization_memberships om
     WHERE om.id = workspace_memberships.organization_membership_id)
 WHERE deleted_at IS NULL AND organization_membership_id IN (SELECT id FROM organization_memberships);

-- The memberships statement's index holds every column it reads of the
-- membership, so SQLite reads the rows from the index alone instead of
-- seeking each in the table (BenchmarkMemberships at 1,000 memberships:
-- 5.8 ms before, 4.9 ms after). It replaces 0001's index on its first three
-- columns; deleted_at is there only so that SQLite sees the index covers
-- the statement.
CREATE INDEX workspace_memberships_user_rows ON workspace_memberships (
    user_id, created_at DESC, id DESC, organization_membership_live, workspace_id, organization_id,
    organization_membership_id, updated_at, role_refs, organization_permissions, public_metadata, deleted_at)
    WHERE deleted_at IS NULL;
DROP INDEX workspace_memberships_user;
