-- Member counts kept on the workspace and organization rows by triggers, so
-- the memberships query reads a column instead of counting every member of
-- each workspace and organization on every request (the largest part of its
-- cost, growing with the size of the organizations). A live membership is
-- one whose deleted_at IS NULL.
ALTER TABLE workspaces ADD COLUMN member_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE organizations ADD COLUMN member_count INTEGER NOT NULL DEFAULT 0;

UPDATE workspaces SET member_count = (SELECT count(*) FROM workspace_memberships c
    WHERE c.workspace_id = workspaces.id AND c.deleted_at IS NULL);
UPDATE organizations SET member_count = (SELECT count(*) FROM organization_memberships c
    WHERE c.organization_id = organizations.id AND c.deleted_at IS NULL);

CREATE TRIGGER workspace_members_insert AFTER INSERT ON workspace_memberships
WHEN NEW.deleted_at IS NULL BEGIN
    UPDATE workspaces SET member_count = member_count + 1 WHERE id = NEW.workspace_id;
END;
CREATE TRIGGER workspace_members_delete AFTER DELETE ON workspace_memberships
WHEN OLD.deleted_at IS NULL BEGIN
    UPDATE workspaces SET member_count = member_count - 1 WHERE id = OLD.workspace_id;
END;
CREATE TRIGGER workspace_members_update AFTER UPDATE OF workspace_id, deleted_at ON workspace_memberships BEGIN
    UPDATE workspaces SET member_count = member_count - 1 WHERE id = OLD.workspace_id AND OLD.deleted_at IS NULL;
    UPDATE workspaces SET member_count = member_count + 1 WHERE id = NEW.workspace_id AND NEW.deleted_at IS NULL;
END;

CREATE TRIGGER organization_members_insert AFTER INSERT ON organization_memberships
WHEN NEW.deleted_at IS NULL BEGIN
    UPDATE organizations SET member_count = member_count + 1 WHERE id = NEW.organization_id;
END;
CREATE TRIGGER organization_members_delete AFTER DELETE ON organization_memberships
WHEN OLD.deleted_at IS NULL BEGIN
    UPDATE organizations SET member_count = member_count - 1 WHERE id = OLD.organization_id;
END;
CREATE TRIGGER organization_members_update AFTER UPDATE OF organization_id, deleted_at ON organization_memberships BEGIN
    UPDATE organizations SET member_count = member_count - 1 WHERE id = OLD.organization_id AND OLD.deleted_at IS NULL;
    UPDATE organizations SET member_count = member_count + 1 WHERE id = NEW.organization_id AND NEW.deleted_at IS NULL;
END;
