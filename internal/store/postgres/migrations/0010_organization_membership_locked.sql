-- 0009's BEFORE trigger read the organization membership without a lock:
-- the foreign key's check (FOR KEY SHARE) does not wait for a concurrent
-- update of its permissions or deleted_at (FOR NO KEY UPDATE), nor that
-- update for the insert, so each missed the other and the workspace
-- membership kept the old values once both committed (a deleted
-- organization membership served as live). FOR SHARE conflicts with the
-- update: whichever comes second waits and then reads the other's row.
CREATE OR REPLACE FUNCTION workspace_membership_organization() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT om.deleted_at IS NULL, om.permissions
      INTO NEW.organization_membership_live, NEW.organization_permissions
      FROM organization_memberships om WHERE om.id = NEW.organization_membership_id
       FOR SHARE;
    NEW.organization_membership_live := coalesce(NEW.organization_membership_live, true);
    RETURN NEW;
END $$;
