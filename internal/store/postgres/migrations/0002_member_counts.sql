-- Member counts kept on the workspace and organization rows by triggers, so
-- the memberships query reads a column instead of counting every member of
-- each workspace and organization on every request (the largest part of its
-- cost, growing with the size of the organizations). A live membership is
-- one whose deleted_at IS NULL.
ALTER TABLE workspaces ADD COLUMN member_count bigint NOT NULL DEFAULT 0;
ALTER TABLE organizations ADD COLUMN member_count bigint NOT NULL DEFAULT 0;

UPDATE workspaces w SET member_count = (SELECT count(*) FROM workspace_memberships c
    WHERE c.workspace_id = w.id AND c.deleted_at IS NULL);
UPDATE organizations o SET member_count = (SELECT count(*) FROM organization_memberships c
    WHERE c.organization_id = o.id AND c.deleted_at IS NULL);

CREATE FUNCTION workspace_members_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.deleted_at IS NULL THEN
        UPDATE workspaces SET member_count = member_count - 1 WHERE id = OLD.workspace_id;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.deleted_at IS NULL THEN
        UPDATE workspaces SET member_count = member_count + 1 WHERE id = NEW.workspace_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER workspace_members_count AFTER INSERT OR DELETE OR UPDATE OF workspace_id, deleted_at
    ON workspace_memberships FOR EACH ROW EXECUTE FUNCTION workspace_members_count();

CREATE FUNCTION organization_members_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.deleted_at IS NULL THEN
        UPDATE organizations SET member_count = member_count - 1 WHERE id = OLD.organization_id;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.deleted_at IS NULL THEN
        UPDATE organizations SET member_count = member_count + 1 WHERE id = NEW.organization_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER organization_members_count AFTER INSERT OR DELETE OR UPDATE OF organization_id, deleted_at
    ON organization_memberships FOR EACH ROW EXECUTE FUNCTION organization_members_count();
