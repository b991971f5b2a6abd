-- INSERT OR REPLACE rewrites a row as a delete and an insert: with
-- recursive_triggers off (the default, and other programs' connections are
-- theirs) the delete fires no delete trigger, and the insert no update
-- trigger. The triggers of 0002 and 0003 that work on update or delete then
-- missed it: emptying an organization role's permissions that way left
-- organization:admin (the admin bypass) on its members, and rewriting a
-- workspace membership dropped its roles and counted it twice. After this
-- migration a replaced row leaves every derived column and version stamp as
-- the equivalent UPDATE does. (PostgreSQL has no REPLACE; its ON CONFLICT DO
-- UPDATE fires the update triggers.)
--
-- What hangs on a row by its id (role and segment links, memberships) outlives
-- the delete, so an insert trigger finds it and redoes the update's work; a
-- fresh row has nothing hanging on it, and the trigger's WHEN finds nothing.
-- Finding the links of a role or a segment scans their link table, as 0003's
-- triggers already did for a workspace role: an index on the role or segment
-- costs every link written (membench's seeding took 27% more CPU with four),
-- and the loader writes roles and segments before their links.

-- 0005 refuses an update moving a membership or a role away from its links'
-- other end; a replace moves it without one, and handed one workspace's
-- roles (workspace:admin, the admin bypass) to a member of another. The
-- triggers below that find a membership's or a role's links refuse it too.

-- Organization roles: what 0003's update trigger does to the memberships
-- holding them. A workspace role needs only the tenant check: 0003's insert
-- trigger stamps its version with an UPDATE, which fires its update trigger.
CREATE TRIGGER organization_roles_replaced AFTER INSERT ON organization_roles
WHEN EXISTS (SELECT 1 FROM organization_membership_roles WHERE organization_role_id = NEW.id) BEGIN
    SELECT RAISE(ABORT, 'tenant: organization role of another organization')
     WHERE EXISTS (SELECT 1 FROM organization_membership_roles l
                     JOIN organization_memberships m ON m.id = l.organization_membership_id
                    WHERE l.organization_role_id = NEW.id AND m.organization_id <> NEW.organization_id);
    UPDATE organization_memberships SET permissions = NULL
     WHERE id IN (SELECT organization_membership_id FROM organization_membership_roles WHERE organization_role_id = NEW.id);
END;

CREATE TRIGGER workspace_roles_replaced AFTER INSERT ON workspace_roles
WHEN EXISTS (SELECT 1 FROM workspace_membership_roles l JOIN workspace_memberships m ON m.id = l.workspace_membership_id
             WHERE l.workspace_role_id = NEW.id AND m.workspace_id <> NEW.workspace_id)
BEGIN SELECT RAISE(ABORT, 'tenant: workspace role of another workspace'); END;

-- Segments: the workspaces and organizations showing them take a new version.
CREATE TRIGGER segments_replaced AFTER INSERT ON segments
WHEN EXISTS (SELECT 1 FROM workspace_segments WHERE segment_id = NEW.id)
  OR EXISTS (SELECT 1 FROM organization_segments WHERE segment_id = NEW.id) BEGIN
    UPDATE workspaces SET version = version
     WHERE id IN (SELECT workspace_id FROM workspace_segments WHERE segment_id = NEW.id);
    UPDATE organizations SET version = version
     WHERE id IN (SELECT organization_id FROM organization_segments WHERE segment_id = NEW.id);
END;

-- Memberships: a writer names the columns it knows, so the derived ones come
-- in as their defaults (or as copied); setting them recomputes them (0003),
-- and an organization membership's permissions reach its workspace
-- memberships' rows (0007).
CREATE TRIGGER workspace_memberships_replaced AFTER INSERT ON workspace_memberships
WHEN NEW.role_refs IS NOT NULL
  OR EXISTS (SELECT 1 FROM workspace_membership_roles WHERE workspace_membership_id = NEW.id) BEGIN
    SELECT RAISE(ABORT, 'tenant: workspace role of another workspace')
     WHERE EXISTS (SELECT 1 FROM workspace_membership_roles l JOIN workspace_roles r ON r.id = l.workspace_role_id
                    WHERE l.workspace_membership_id = NEW.id AND r.workspace_id <> NEW.workspace_id);
    UPDATE workspace_memberships SET role_refs = NULL WHERE id = NEW.id;
END;
CREATE TRIGGER organization_memberships_replaced AFTER INSERT ON organization_memberships
WHEN NEW.permissions IS NOT NULL
  OR EXISTS (SELECT 1 FROM organization_membership_roles WHERE organization_membership_id = NEW.id) BEGIN
    SELECT RAISE(ABORT, 'tenant: organization role of another organization')
     WHERE EXISTS (SELECT 1 FROM organization_membership_roles l JOIN organization_roles r ON r.id = l.organization_role_id
                    WHERE l.organization_membership_id = NEW.id AND r.organization_id <> NEW.organization_id);
    UPDATE organization_memberships SET permissions = NULL WHERE id = NEW.id;
END;

-- Workspaces and organizations: the member count is counted, not taken from
-- the writer (a fresh row has no members: one index probe).
CREATE TRIGGER workspaces_replaced AFTER INSERT ON workspaces
WHEN NEW.member_count <> (SELECT count(*) FROM workspace_memberships c
                           WHERE c.workspace_id = NEW.id AND c.deleted_at IS NULL) BEGIN
    UPDATE workspaces SET member_count = (SELECT count(*) FROM workspace_memberships c
                                           WHERE c.workspace_id = NEW.id AND c.deleted_at IS NULL)
     WHERE id = NEW.id;
END;
CREATE TRIGGER organizations_replaced AFTER INSERT ON organizations
WHEN NEW.member_count <> (SELECT count(*) FROM organization_memberships c
                           WHERE c.organization_id = NEW.id AND c.deleted_at IS NULL) BEGIN
    UPDATE organizations SET member_count = (SELECT count(*) FROM organization_memberships c
                                              WHERE c.organization_id = NEW.id AND c.deleted_at IS NULL)
     WHERE id = NEW.id;
END;

-- Member counts need the row that went (its workspace or organization, and
-- whether it was live), which only a BEFORE INSERT trigger sees; and what it
-- does outlives an insert that then does not happen (INSERT OR IGNORE,
-- ON CONFLICT DO NOTHING or DO UPDATE). So it only notes what a replace
-- would make wrong: the workspaces (organizations) of the rows that go, by
-- id or by the one-live-membership index. Then either 0002's insert trigger
-- adds the new member or, when its workspace is noted, the recount counts it:
-- neither writes the notes, so the order they fire in does not matter. Notes
-- stay until the next insert clears them; one left by an insert that did not
-- happen costs a recount. A fresh insert costs four index probes.
CREATE TABLE workspace_recounts (workspace_id INTEGER NOT NULL) STRICT;
CREATE TABLE organization_recounts (organization_id INTEGER NOT NULL) STRICT;

CREATE TRIGGER workspace_members_replacing BEFORE INSERT ON workspace_memberships
WHEN EXISTS (SELECT 1 FROM workspace_recounts)
  OR EXISTS (SELECT 1 FROM workspace_memberships WHERE id = NEW.id AND deleted_at IS NULL)
  OR (NEW.deleted_at IS NULL AND EXISTS (SELECT 1 FROM workspace_memberships
      WHERE workspace_id = NEW.workspace_id AND user_id = NEW.user_id AND deleted_at IS NULL)) BEGIN
    DELETE FROM workspace_recounts;
    INSERT INTO workspace_recounts
    SELECT workspace_id FROM workspace_memberships WHERE id = NEW.id AND deleted_at IS NULL
    UNION
    SELECT workspace_id FROM workspace_memberships
     WHERE workspace_id = NEW.workspace_id AND user_id = NEW.user_id AND deleted_at IS NULL
       AND NEW.deleted_at IS NULL;
END;
DROP TRIGGER workspace_members_insert;
CREATE TRIGGER workspace_members_insert AFTER INSERT ON workspace_memberships
WHEN NEW.deleted_at IS NULL
 AND NOT EXISTS (SELECT 1 FROM workspace_recounts WHERE workspace_id = NEW.workspace_id) BEGIN
    UPDATE workspaces SET member_count = member_count + 1 WHERE id = NEW.workspace_id;
END;
CREATE TRIGGER workspace_members_recount AFTER INSERT ON workspace_memberships
WHEN EXISTS (SELECT 1 FROM workspace_recounts) BEGIN
    UPDATE workspaces SET member_count = (SELECT count(*) FROM workspace_memberships c
                                           WHERE c.workspace_id = workspaces.id AND c.deleted_at IS NULL)
     WHERE id IN (SELECT workspace_id FROM workspace_recounts);
END;

CREATE TRIGGER organization_members_replacing BEFORE INSERT ON organization_memberships
WHEN EXISTS (SELECT 1 FROM organization_recounts)
  OR EXISTS (SELECT 1 FROM organization_memberships WHERE id = NEW.id AND deleted_at IS NULL)
  OR (NEW.deleted_at IS NULL AND EXISTS (SELECT 1 FROM organization_memberships
      WHERE organization_id = NEW.organization_id AND user_id = NEW.user_id AND deleted_at IS NULL)) BEGIN
    DELETE FROM organization_recounts;
    INSERT INTO organization_recounts
    SELECT organization_id FROM organization_memberships WHERE id = NEW.id AND deleted_at IS NULL
    UNION
    SELECT organization_id FROM organization_memberships
     WHERE organization_id = NEW.organization_id AND user_id = NEW.user_id AND deleted_at IS NULL
       AND NEW.deleted_at IS NULL;
END;
DROP TRIGGER organization_members_insert;
CREATE TRIGGER organization_members_insert AFTER INSERT ON organization_memberships
WHEN NEW.deleted_at IS NULL
 AND NOT EXISTS (SELECT 1 FROM organization_recounts WHERE organization_id = NEW.organization_id) BEGIN
    UPDATE organizations SET member_count = member_count + 1 WHERE id = NEW.organization_id;
END;
CREATE TRIGGER organization_members_recount AFTER INSERT ON organization_memberships
WHEN EXISTS (SELECT 1 FROM organization_recounts) BEGIN
    UPDATE organizations SET member_count = (SELECT count(*) FROM organization_memberships c
                                              WHERE c.organization_id = organizations.id AND c.deleted_at IS NULL)
     WHERE id IN (SELECT organization_id FROM organization_recounts);
END;

-- Rows a replace already left wrong.
UPDATE workspaces SET member_count = (SELECT count(*) FROM workspace_memberships c
    WHERE c.workspace_id = workspaces.id AND c.deleted_at IS NULL);
UPDATE organizations SET member_count = (SELECT count(*) FROM organization_memberships c
    WHERE c.organization_id = organizations.id AND c.deleted_at IS NULL);
UPDATE workspace_memberships SET role_refs = NULL;
UPDATE organization_memberships SET permissions = NULL;
