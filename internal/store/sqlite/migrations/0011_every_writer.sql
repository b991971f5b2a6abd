-- What the randomized writers test (internal/writers) found other programs'
-- writes could make the answer miss, against an oracle reading only the
-- base tables.
--
-- 1. Version stamps a restore cannot make repeat. A backup restored (the
--    sqlite3 shell's .restore) set fragment_clock back: the next writes took
--    versions already used before the restore for other contents, and every
--    running instance went on serving the (id, version) it had cached, the
--    pre-restore answer, forever. The clock now never runs behind the wall
--    clock (unix microseconds): a stamp taken after a restore is later than
--    every stamp taken before it, unless those ran ahead of the clock (more
--    than one version a microsecond, for as long as that lasted) or the
--    clock was stepped back past them.
DROP TRIGGER workspaces_version_insert;
DROP TRIGGER workspaces_version_update;
DROP TRIGGER organizations_version_insert;
DROP TRIGGER organizations_version_update;
DROP TRIGGER workspace_roles_version_insert;
DROP TRIGGER workspace_roles_version_update;
CREATE TRIGGER workspaces_version_insert AFTER INSERT ON workspaces BEGIN
    UPDATE fragment_clock SET n = max(n + 1, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
    UPDATE workspaces SET version = (SELECT n FROM fragment_clock) WHERE id = NEW.id;
END;
CREATE TRIGGER workspaces_version_update AFTER UPDATE ON workspaces BEGIN
    UPDATE fragment_clock SET n = max(n + 1, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
    UPDATE workspaces SET version = (SELECT n FROM fragment_clock) WHERE id = NEW.id;
END;
CREATE TRIGGER organizations_version_insert AFTER INSERT ON organizations BEGIN
    UPDATE fragment_clock SET n = max(n + 1, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
    UPDATE organizations SET version = (SELECT n FROM fragment_clock) WHERE id = NEW.id;
END;
CREATE TRIGGER organizations_version_update AFTER UPDATE ON organizations BEGIN
    UPDATE fragment_clock SET n = max(n + 1, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
    UPDATE organizations SET version = (SELECT n FROM fragment_clock) WHERE id = NEW.id;
END;
CREATE TRIGGER workspace_roles_version_insert AFTER INSERT ON workspace_roles BEGIN
    UPDATE fragment_clock SET n = max(n + 1, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
    UPDATE workspace_roles SET version = (SELECT n FROM fragment_clock) WHERE id = NEW.id;
END;
CREATE TRIGGER workspace_roles_version_update AFTER UPDATE ON workspace_roles BEGIN
    UPDATE fragment_clock SET n = max(n + 1, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
    UPDATE workspace_roles SET version = (SELECT n FROM fragment_clock) WHERE id = NEW.id;
    UPDATE workspace_memberships SET role_refs = NULL
     WHERE id IN (SELECT workspace_membership_id FROM workspace_membership_roles WHERE workspace_role_id = NEW.id);
END;

-- 2. A role deleted outright (foreign keys off, the sqlite3 shell's
--    default) left its links, and the memberships holding it kept it: a
--    workspace role in role_refs (a running instance showed it; a fresh one,
--    not finding it, dropped the membership), an organization role's
--    organization:admin in permissions (the admin bypass). Its links are
--    left as they are (a role of that id inserted again comes back with
--    them, as 0010's triggers expect); the memberships are recomputed.
CREATE TRIGGER workspace_roles_deleted AFTER DELETE ON workspace_roles BEGIN
    UPDATE workspace_memberships SET role_refs = NULL
     WHERE id IN (SELECT workspace_membership_id FROM workspace_membership_roles WHERE workspace_role_id = OLD.id);
END;
CREATE TRIGGER organization_roles_deleted AFTER DELETE ON organization_roles BEGIN
    UPDATE organization_memberships SET permissions = NULL
     WHERE id IN (SELECT organization_membership_id FROM organization_membership_roles WHERE organization_role_id = OLD.id);
END;

-- Rows a delete already left wrong.
UPDATE workspace_memberships SET role_refs = NULL;
UPDATE organization_memberships SET permissions = NULL;
