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
