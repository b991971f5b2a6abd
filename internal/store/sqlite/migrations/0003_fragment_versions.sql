-- Version stamps for the answer's fragments (internal/store/fragment): a
-- workspace, an organization and a workspace role each carry a version that
-- changes on every write to anything its JSON shows, whoever writes it, so an
-- instance may keep its encoding per (id, version). Versions come from one
-- clock, so a row deleted and inserted again never reuses one.
-- Columns are added, never rebuilt: a rebuild would drop other migrations'
-- triggers.
CREATE TABLE fragment_clock (n INTEGER NOT NULL);
INSERT INTO fragment_clock (n) VALUES (0);

ALTER TABLE workspaces ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE organizations ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE workspace_roles ADD COLUMN version INTEGER NOT NULL DEFAULT 0;

-- What each membership row needs besides its own fields, kept on the rows by
-- triggers, so the per-request statement reads columns instead of running a
-- subquery per membership (most of its cost): the membership's live roles as
-- "id.version,…" (NULL: none), and the distinct permissions of the live
-- roles of an organization membership as a JSON array (NULL: none).
ALTER TABLE workspace_memberships ADD COLUMN role_refs TEXT;
ALTER TABLE organization_memberships ADD COLUMN permissions TEXT;

-- Setting role_refs (to anything) recomputes it, and likewise permissions:
-- one place for each expression.
CREATE TRIGGER workspace_memberships_role_refs AFTER UPDATE OF role_refs ON workspace_memberships BEGIN
    UPDATE workspace_memberships SET role_refs = (
        SELECT group_concat(r.id || '.' || r.version)
          FROM workspace_membership_roles wr JOIN workspace_roles r ON r.id = wr.workspace_role_id
         WHERE wr.workspace_membership_id = NEW.id AND r.deleted_at IS NULL)
     WHERE id = NEW.id;
END;
CREATE TRIGGER organization_memberships_permissions AFTER UPDATE OF permissions ON organization_memberships BEGIN
    UPDATE organization_memberships SET permissions = (
        SELECT json_group_array(DISTINCT p.value)
          FROM organization_membership_roles orl
          JOIN organization_roles r ON r.id = orl.organization_role_id, json_each(r.permissions) p
         WHERE orl.organization_membership_id = NEW.id AND r.deleted_at IS NULL)
     WHERE id = NEW.id;
END;
UPDATE workspace_memberships SET role_refs = NULL;
UPDATE organization_memberships SET permissions = NULL;

CREATE TRIGGER workspace_membership_roles_insert AFTER INSERT ON workspace_membership_roles BEGIN
    UPDATE workspace_memberships SET role_refs = NULL WHERE id = NEW.workspace_membership_id;
END;
CREATE TRIGGER workspace_membership_roles_update AFTER UPDATE ON workspace_membership_roles BEGIN
    UPDATE workspace_memberships SET role_refs = NULL WHERE id IN (OLD.workspace_membership_id, NEW.workspace_membership_id);
END;
CREATE TRIGGER workspace_membership_roles_delete AFTER DELETE ON workspace_membership_roles BEGIN
    UPDATE workspace_memberships SET role_refs = NULL WHERE id = OLD.workspace_membership_id;
END;
CREATE TRIGGER organization_membership_roles_insert AFTER INSERT ON organization_membership_roles BEGIN
    UPDATE organization_memberships SET permissions = NULL WHERE id = NEW.organization_membership_id;
END;
CREATE TRIGGER organization_membership_roles_update AFTER UPDATE ON organization_membership_roles BEGIN
    UPDATE organization_memberships SET permissions = NULL WHERE id IN (OLD.organization_membership_id, NEW.organization_membership_id);
END;
CREATE TRIGGER organization_membership_roles_delete AFTER DELETE ON organization_membership_roles BEGIN
    UPDATE organization_memberships SET permissions = NULL WHERE id = OLD.organization_membership_id;
END;
CREATE TRIGGER organization_roles_permissions AFTER UPDATE ON organization_roles BEGIN
    UPDATE organization_memberships SET permissions = NULL
     WHERE id IN (SELECT organization_membership_id FROM organization_membership_roles WHERE organization_role_id = NEW.id);
END;

-- Every insert and update of the row itself (member counts included, which
-- the triggers of 0002 write) takes the next tick. The trigger's own UPDATE
-- does not fire it again: recursive triggers are off.
CREATE TRIGGER workspaces_version_insert AFTER INSERT ON workspaces BEGIN
    UPDATE fragment_clock SET n = n + 1;
    UPDATE workspaces SET version = (SELECT n FROM fragment_clock) WHERE id = NEW.id;
END;
CREATE TRIGGER workspaces_version_update AFTER UPDATE ON workspaces BEGIN
    UPDATE fragment_clock SET n = n + 1;
    UPDATE workspaces SET version = (SELECT n FROM fragment_clock) WHERE id = NEW.id;
END;
CREATE TRIGGER organizations_version_insert AFTER INSERT ON organizations BEGIN
    UPDATE fragment_clock SET n = n + 1;
    UPDATE organizations SET version = (SELECT n FROM fragment_clock) WHERE id = NEW.id;
END;
CREATE TRIGGER organizations_version_update AFTER UPDATE ON organizations BEGIN
    UPDATE fragment_clock SET n = n + 1;
    UPDATE organizations SET version = (SELECT n FROM fragment_clock) WHERE id = NEW.id;
END;
CREATE TRIGGER workspace_roles_version_insert AFTER INSERT ON workspace_roles BEGIN
    UPDATE fragment_clock SET n = n + 1;
    UPDATE workspace_roles SET version = (SELECT n FROM fragment_clock) WHERE id = NEW.id;
END;
CREATE TRIGGER workspace_roles_version_update AFTER UPDATE ON workspace_roles BEGIN
    UPDATE fragment_clock SET n = n + 1;
    UPDATE workspace_roles SET version = (SELECT n FROM fragment_clock) WHERE id = NEW.id;
    UPDATE workspace_memberships SET role_refs = NULL
     WHERE id IN (SELECT workspace_membership_id FROM workspace_membership_roles WHERE workspace_role_id = NEW.id);
END;

-- What a workspace or an organization shows of other tables: its segment
-- links and the segments. Touching the row fires its version trigger.
CREATE TRIGGER workspace_segments_version_insert AFTER INSERT ON workspace_segments BEGIN
    UPDATE workspaces SET version = version WHERE id = NEW.workspace_id;
END;
CREATE TRIGGER workspace_segments_version_update AFTER UPDATE ON workspace_segments BEGIN
    UPDATE workspaces SET version = version WHERE id IN (OLD.workspace_id, NEW.workspace_id);
END;
CREATE TRIGGER workspace_segments_version_delete AFTER DELETE ON workspace_segments BEGIN
    UPDATE workspaces SET version = version WHERE id = OLD.workspace_id;
END;
CREATE TRIGGER organization_segments_version_insert AFTER INSERT ON organization_segments BEGIN
    UPDATE organizations SET version = version WHERE id = NEW.organization_id;
END;
CREATE TRIGGER organization_segments_version_update AFTER UPDATE ON organization_segments BEGIN
    UPDATE organizations SET version = version WHERE id IN (OLD.organization_id, NEW.organization_id);
END;
CREATE TRIGGER organization_segments_version_delete AFTER DELETE ON organization_segments BEGIN
    UPDATE organizations SET version = version WHERE id = OLD.organization_id;
END;
CREATE TRIGGER segments_version_update AFTER UPDATE ON segments BEGIN
    UPDATE workspaces SET version = version
     WHERE id IN (SELECT workspace_id FROM workspace_segments WHERE segment_id IN (OLD.id, NEW.id));
    UPDATE organizations SET version = version
     WHERE id IN (SELECT organization_id FROM organization_segments WHERE segment_id IN (OLD.id, NEW.id));
END;
CREATE TRIGGER segments_version_delete AFTER DELETE ON segments BEGIN
    UPDATE workspaces SET version = version
     WHERE id IN (SELECT workspace_id FROM workspace_segments WHERE segment_id = OLD.id);
    UPDATE organizations SET version = version
     WHERE id IN (SELECT organization_id FROM organization_segments WHERE segment_id = OLD.id);
END;
