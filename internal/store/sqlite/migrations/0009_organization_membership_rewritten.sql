-- 0007 keeps an organization membership's liveness and permissions on its
-- workspace memberships' rows when the organization membership is updated.
-- Its row can also go or come back without an update, and the memberships
-- statement, which joined it before 0007, then hid or showed them:
-- INSERT OR REPLACE rewrites a row as a delete and an insert and fires no
-- update trigger (foreign keys on), and a program with foreign keys off (the
-- sqlite3 shell's default) can delete it outright. As in 0007, each trigger
-- reads the row as it is when it runs.
CREATE TRIGGER organization_memberships_inserted_on_rows AFTER INSERT ON organization_memberships BEGIN
    UPDATE workspace_memberships SET (organization_membership_live, organization_permissions) = (
        SELECT om.deleted_at IS NULL, om.permissions FROM organization_memberships om WHERE om.id = NEW.id)
     WHERE user_id = NEW.user_id AND deleted_at IS NULL AND organization_membership_id = NEW.id;
END;
CREATE TRIGGER organization_memberships_deleted_on_rows AFTER DELETE ON organization_memberships BEGIN
    UPDATE workspace_memberships SET (organization_membership_live, organization_permissions) = (0, NULL)
     WHERE user_id = OLD.user_id AND deleted_at IS NULL AND organization_membership_id = OLD.id;
END;

-- Rows already pointing at an organization membership that is gone (0007
-- left them as they were).
UPDATE workspace_memberships SET (organization_membership_live, organization_permissions) = (0, NULL)
 WHERE deleted_at IS NULL AND organization_membership_id NOT IN (SELECT id FROM organization_memberships);
