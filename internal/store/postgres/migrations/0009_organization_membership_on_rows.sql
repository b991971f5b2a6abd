-- The organization membership a workspace membership hangs on, kept on the
-- workspace membership's row, as SQLite's 0007 does: whether it is live and
-- its permissions (0003's column). The memberships statement then looks up
-- a workspace and an organization per membership, not also its organization
-- membership: 30 of its 84 buffer reads for a user of 10 memberships.
--
-- Only live workspace memberships are kept current: the memberships
-- statement reads no other, and one coming back to life (deleted_at set to
-- NULL) is refreshed like a new one.
ALTER TABLE workspace_memberships
    ADD COLUMN organization_membership_live boolean NOT NULL DEFAULT true,
    ADD COLUMN organization_permissions text;

-- A BEFORE trigger sets the values on the row being written (no second row
-- version), for a load's rows too: the loader writes organization
-- memberships, permissions included, before the workspace memberships. A
-- missing organization membership leaves the defaults, so its foreign key,
-- not NOT NULL, names the mistake.
CREATE FUNCTION workspace_membership_organization() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT om.deleted_at IS NULL, om.permissions
      INTO NEW.organization_membership_live, NEW.organization_permissions
      FROM organization_memberships om WHERE om.id = NEW.organization_membership_id;
    NEW.organization_membership_live := coalesce(NEW.organization_membership_live, true);
    RETURN NEW;
END $$;
CREATE TRIGGER workspace_memberships_organization
BEFORE INSERT OR UPDATE OF organization_membership_id, deleted_at ON workspace_memberships
FOR EACH ROW WHEN (NEW.deleted_at IS NULL) EXECUTE FUNCTION workspace_membership_organization();

-- The values are read again from the organization membership, not taken
-- from NEW: whatever order this and other updates of the row fire in, the
-- last one leaves the row as it is. The composite foreign key (0001) makes
-- the workspace membership's user the organization membership's, so the
-- user's index finds the rows.
CREATE FUNCTION organization_membership_on_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE workspace_memberships wm
       SET (organization_membership_live, organization_permissions) = (om.deleted_at IS NULL, om.permissions)
      FROM organization_memberships om
     WHERE om.id = NEW.id AND wm.user_id = NEW.user_id AND wm.organization_membership_id = NEW.id
       AND wm.deleted_at IS NULL;
    RETURN NULL;
END $$;
CREATE TRIGGER organization_memberships_on_rows AFTER UPDATE OF permissions, deleted_at ON organization_memberships
FOR EACH ROW WHEN (OLD.permissions IS DISTINCT FROM NEW.permissions
                   OR (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL))
EXECUTE FUNCTION organization_membership_on_rows();

UPDATE workspace_memberships wm
   SET (organization_membership_live, organization_permissions) = (om.deleted_at IS NULL, om.permissions)
  FROM organization_memberships om
 WHERE om.id = wm.organization_membership_id AND wm.deleted_at IS NULL;
