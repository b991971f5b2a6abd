-- The derived schema of SQLite: every trigger, in one place. The numbered
-- migrations hold tables, columns and backfills; what keeps the columns
-- derived from other rows (role_refs, permissions, the organization
-- membership on workspace membership rows, member counts, version stamps)
-- and the checks across tenants are these triggers, whoever writes.
--
-- Migrate applies this file after the migrations whenever its checksum
-- differs from the one recorded in schema_derived, in one transaction: it
-- drops every trigger, runs this file, and recomputes every derived column
-- (the end of the file), so a change here reaches every row. Edit it in
-- place; never put a trigger in a migration. See docs/schema.md.
--
-- It is written against the schema as of this migration, and applied only
-- once that migration is:
-- schema: 0011_answer_changes
--
-- Triggers fire in an order SQLite does not promise: none here depends on
-- another having run first (each reads the rows as they are when it runs).

CREATE TRIGGER workspace_members_delete AFTER DELETE ON workspace_memberships
WHEN OLD.deleted_at IS NULL BEGIN
    UPDATE workspaces SET member_count = member_count - 1 WHERE id = OLD.workspace_id;
END;

CREATE TRIGGER workspace_members_update AFTER UPDATE OF workspace_id, deleted_at ON workspace_memberships BEGIN
    UPDATE workspaces SET member_count = member_count - 1 WHERE id = OLD.workspace_id AND OLD.deleted_at IS NULL;
    UPDATE workspaces SET member_count = member_count + 1 WHERE id = NEW.workspace_id AND NEW.deleted_at IS NULL;
END;

CREATE TRIGGER organization_members_delete AFTER DELETE ON organization_memberships
WHEN OLD.deleted_at IS NULL BEGIN
    UPDATE organizations SET member_count = member_count - 1 WHERE id = OLD.organization_id;
END;

CREATE TRIGGER organization_members_update AFTER UPDATE OF organization_id, deleted_at ON organization_memberships BEGIN
    UPDATE organizations SET member_count = member_count - 1 WHERE id = OLD.organization_id AND OLD.deleted_at IS NULL;
    UPDATE organizations SET member_count = member_count + 1 WHERE id = NEW.organization_id AND NEW.deleted_at IS NULL;
END;

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

CREATE TRIGGER tenant_workspace_membership_roles_update BEFORE UPDATE ON workspace_membership_roles
BEGIN SELECT RAISE(ABORT, 'links are inserted or deleted, not updated'); END;

CREATE TRIGGER tenant_organization_membership_roles_update BEFORE UPDATE ON organization_membership_roles
BEGIN SELECT RAISE(ABORT, 'links are inserted or deleted, not updated'); END;

CREATE TRIGGER tenant_organization_segments_update BEFORE UPDATE ON organization_segments
BEGIN SELECT RAISE(ABORT, 'links are inserted or deleted, not updated'); END;

CREATE TRIGGER tenant_workspace_segments_update BEFORE UPDATE ON workspace_segments
BEGIN SELECT RAISE(ABORT, 'links are inserted or deleted, not updated'); END;

CREATE TRIGGER tenant_workspace_membership_roles_insert BEFORE INSERT ON workspace_membership_roles
WHEN (SELECT workspace_id FROM workspace_memberships WHERE id = NEW.workspace_membership_id)
  <> (SELECT workspace_id FROM workspace_roles WHERE id = NEW.workspace_role_id)
BEGIN SELECT RAISE(ABORT, 'tenant: workspace role of another workspace'); END;

CREATE TRIGGER tenant_workspace_memberships_move BEFORE UPDATE OF workspace_id ON workspace_memberships
WHEN EXISTS (SELECT 1 FROM workspace_membership_roles l JOIN workspace_roles r ON r.id = l.workspace_role_id
             WHERE l.workspace_membership_id = NEW.id AND r.workspace_id <> NEW.workspace_id)
BEGIN SELECT RAISE(ABORT, 'tenant: workspace role of another workspace'); END;

CREATE TRIGGER tenant_workspace_roles_move BEFORE UPDATE OF workspace_id ON workspace_roles
WHEN EXISTS (SELECT 1 FROM workspace_membership_roles l JOIN workspace_memberships m ON m.id = l.workspace_membership_id
             WHERE l.workspace_role_id = NEW.id AND m.workspace_id <> NEW.workspace_id)
BEGIN SELECT RAISE(ABORT, 'tenant: workspace role of another workspace'); END;

CREATE TRIGGER tenant_workspace_roles_insert BEFORE INSERT ON workspace_roles
WHEN (SELECT deployment_id FROM workspaces WHERE id = NEW.workspace_id) <> NEW.deployment_id
BEGIN SELECT RAISE(ABORT, 'tenant: workspace role of another deployment'); END;

CREATE TRIGGER tenant_workspace_roles_update BEFORE UPDATE OF workspace_id, deployment_id ON workspace_roles
WHEN (SELECT deployment_id FROM workspaces WHERE id = NEW.workspace_id) <> NEW.deployment_id
BEGIN SELECT RAISE(ABORT, 'tenant: workspace role of another deployment'); END;

CREATE TRIGGER tenant_organization_membership_roles_insert BEFORE INSERT ON organization_membership_roles
WHEN (SELECT organization_id FROM organization_memberships WHERE id = NEW.organization_membership_id)
  <> (SELECT organization_id FROM organization_roles WHERE id = NEW.organization_role_id)
BEGIN SELECT RAISE(ABORT, 'tenant: organization role of another organization'); END;

CREATE TRIGGER tenant_organization_memberships_move BEFORE UPDATE OF organization_id ON organization_memberships
WHEN EXISTS (SELECT 1 FROM organization_membership_roles l JOIN organization_roles r ON r.id = l.organization_role_id
             WHERE l.organization_membership_id = NEW.id AND r.organization_id <> NEW.organization_id)
BEGIN SELECT RAISE(ABORT, 'tenant: organization role of another organization'); END;

CREATE TRIGGER tenant_organization_roles_move BEFORE UPDATE OF organization_id ON organization_roles
WHEN EXISTS (SELECT 1 FROM organization_membership_roles l JOIN organization_memberships m ON m.id = l.organization_membership_id
             WHERE l.organization_role_id = NEW.id AND m.organization_id <> NEW.organization_id)
BEGIN SELECT RAISE(ABORT, 'tenant: organization role of another organization'); END;

CREATE TRIGGER tenant_organization_segments_insert BEFORE INSERT ON organization_segments
WHEN (SELECT deployment_id FROM organizations WHERE id = NEW.organization_id)
  <> (SELECT deployment_id FROM segments WHERE id = NEW.segment_id)
BEGIN SELECT RAISE(ABORT, 'tenant: segment of another deployment'); END;

CREATE TRIGGER tenant_workspace_segments_insert BEFORE INSERT ON workspace_segments
WHEN (SELECT deployment_id FROM workspaces WHERE id = NEW.workspace_id)
  <> (SELECT deployment_id FROM segments WHERE id = NEW.segment_id)
BEGIN SELECT RAISE(ABORT, 'tenant: segment of another deployment'); END;

CREATE TRIGGER tenant_segments_move BEFORE UPDATE OF deployment_id ON segments
WHEN EXISTS (SELECT 1 FROM organization_segments l JOIN organizations o ON o.id = l.organization_id
             WHERE l.segment_id = NEW.id AND o.deployment_id <> NEW.deployment_id)
  OR EXISTS (SELECT 1 FROM workspace_segments l JOIN workspaces w ON w.id = l.workspace_id
             WHERE l.segment_id = NEW.id AND w.deployment_id <> NEW.deployment_id)
BEGIN SELECT RAISE(ABORT, 'tenant: segment of another deployment'); END;

CREATE TRIGGER tenant_organizations_move BEFORE UPDATE OF deployment_id ON organizations
WHEN EXISTS (SELECT 1 FROM organization_segments l JOIN segments s ON s.id = l.segment_id
             WHERE l.organization_id = NEW.id AND s.deployment_id <> NEW.deployment_id)
BEGIN SELECT RAISE(ABORT, 'tenant: segment of another deployment'); END;

CREATE TRIGGER tenant_workspaces_move BEFORE UPDATE OF deployment_id ON workspaces
WHEN EXISTS (SELECT 1 FROM workspace_segments l JOIN segments s ON s.id = l.segment_id
             WHERE l.workspace_id = NEW.id AND s.deployment_id <> NEW.deployment_id)
  OR EXISTS (SELECT 1 FROM workspace_roles r WHERE r.workspace_id = NEW.id AND r.deployment_id <> NEW.deployment_id)
BEGIN SELECT RAISE(ABORT, 'tenant: segment or role of another deployment'); END;

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

CREATE TRIGGER organization_memberships_on_rows AFTER UPDATE OF permissions, deleted_at ON organization_memberships BEGIN
    UPDATE workspace_memberships SET (organization_membership_live, organization_permissions) = (
        SELECT om.deleted_at IS NULL, om.permissions FROM organization_memberships om WHERE om.id = NEW.id)
     WHERE user_id = NEW.user_id AND deleted_at IS NULL AND organization_membership_id = NEW.id;
END;

CREATE TRIGGER organization_memberships_inserted_on_rows AFTER INSERT ON organization_memberships BEGIN
    UPDATE workspace_memberships SET (organization_membership_live, organization_permissions) = (
        SELECT om.deleted_at IS NULL, om.permissions FROM organization_memberships om WHERE om.id = NEW.id)
     WHERE user_id = NEW.user_id AND deleted_at IS NULL AND organization_membership_id = NEW.id;
END;

CREATE TRIGGER organization_memberships_deleted_on_rows AFTER DELETE ON organization_memberships BEGIN
    UPDATE workspace_memberships SET (organization_membership_live, organization_permissions) = (0, NULL)
     WHERE user_id = OLD.user_id AND deleted_at IS NULL AND organization_membership_id = OLD.id;
END;

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

CREATE TRIGGER segments_replaced AFTER INSERT ON segments
WHEN EXISTS (SELECT 1 FROM workspace_segments WHERE segment_id = NEW.id)
  OR EXISTS (SELECT 1 FROM organization_segments WHERE segment_id = NEW.id) BEGIN
    UPDATE workspaces SET version = version
     WHERE id IN (SELECT workspace_id FROM workspace_segments WHERE segment_id = NEW.id);
    UPDATE organizations SET version = version
     WHERE id IN (SELECT organization_id FROM organization_segments WHERE segment_id = NEW.id);
END;

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

-- Version stamps (internal/store/fragment keys encodings by (id, version)).
-- The clock never runs behind the wall clock in microseconds, so a restored
-- backup, which sets it back, cannot hand out a stamp used before the
-- restore for other contents (unless stamps ran ahead of the clock, more
-- than one a microsecond for that long, or the clock stepped back past them).
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

-- A role deleted outright (foreign keys off) leaves its links: the
-- memberships holding it are recomputed; a role of that id inserted again
-- comes back with them.
CREATE TRIGGER workspace_roles_deleted AFTER DELETE ON workspace_roles BEGIN
    UPDATE workspace_memberships SET role_refs = NULL
     WHERE id IN (SELECT workspace_membership_id FROM workspace_membership_roles WHERE workspace_role_id = OLD.id);
END;

CREATE TRIGGER organization_roles_deleted AFTER DELETE ON organization_roles BEGIN
    UPDATE organization_memberships SET permissions = NULL
     WHERE id IN (SELECT organization_membership_id FROM organization_membership_roles WHERE organization_role_id = OLD.id);
END;

-- Recompute every derived column under the triggers above. Setting
-- role_refs or permissions recomputes it (their triggers), and the
-- organization membership's reach its workspace memberships' rows.
UPDATE organization_memberships SET permissions = NULL;
UPDATE workspace_memberships SET role_refs = NULL;
UPDATE workspace_memberships SET (organization_membership_live, organization_permissions) = (0, NULL)
 WHERE deleted_at IS NULL AND organization_membership_id NOT IN (SELECT id FROM organization_memberships);
UPDATE workspace_memberships SET (organization_membership_live, organization_permissions) = (
    SELECT om.deleted_at IS NULL, om.permissions FROM organization_memberships om
     WHERE om.id = workspace_memberships.organization_membership_id)
 WHERE deleted_at IS NULL AND organization_membership_id IN (SELECT id FROM organization_memberships);
UPDATE workspaces SET member_count = (SELECT count(*) FROM workspace_memberships c
    WHERE c.workspace_id = workspaces.id AND c.deleted_at IS NULL)
 WHERE member_count <> (SELECT count(*) FROM workspace_memberships c
    WHERE c.workspace_id = workspaces.id AND c.deleted_at IS NULL);
UPDATE organizations SET member_count = (SELECT count(*) FROM organization_memberships c
    WHERE c.organization_id = organizations.id AND c.deleted_at IS NULL)
 WHERE member_count <> (SELECT count(*) FROM organization_memberships c
    WHERE c.organization_id = organizations.id AND c.deleted_at IS NULL);

-- The change feed (migration 0011, internal/revalidate): every write that
-- can change an answer names what it changed. The memberships statement
-- reads a user's workspace membership rows (whatever else changes them:
-- roles, links, organization memberships, they are rewritten by the triggers
-- above) joined to live workspaces and organizations of the deployment, and
-- the fragments those name by version. So: a membership row names its user
-- (before and after); a workspace or an organization names itself, or its
-- deployment when it appears, disappears or moves, which can show or hide
-- rows no answer listed. These come last, so that recomputing the derived
-- columns above writes no feed rows; the file's last statement invalidates
-- every answer instead.
CREATE TRIGGER answer_changes_workspace_memberships_insert AFTER INSERT ON workspace_memberships BEGIN
    UPDATE fragment_clock SET n = max(n + 1, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
    INSERT OR IGNORE INTO answer_changes SELECT n, 1, NEW.user_id FROM fragment_clock;
    DELETE FROM answer_changes WHERE seq < (SELECT n FROM fragment_clock) - 600000000;
END;

-- INSERT OR REPLACE of another user's row by its id fires no delete trigger.
CREATE TRIGGER answer_changes_workspace_memberships_replacing BEFORE INSERT ON workspace_memberships
WHEN EXISTS (SELECT 1 FROM workspace_memberships WHERE id = NEW.id AND user_id <> NEW.user_id) BEGIN
    UPDATE fragment_clock SET n = max(n + 1, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
    INSERT OR IGNORE INTO answer_changes SELECT n, 1, (SELECT user_id FROM workspace_memberships WHERE id = NEW.id) FROM fragment_clock;
    DELETE FROM answer_changes WHERE seq < (SELECT n FROM fragment_clock) - 600000000;
END;

CREATE TRIGGER answer_changes_workspace_memberships_update AFTER UPDATE ON workspace_memberships BEGIN
    UPDATE fragment_clock SET n = max(n + 1, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
    INSERT OR IGNORE INTO answer_changes SELECT n, 1, OLD.user_id FROM fragment_clock;
    INSERT OR IGNORE INTO answer_changes SELECT n, 1, NEW.user_id FROM fragment_clock WHERE NEW.user_id <> OLD.user_id;
    DELETE FROM answer_changes WHERE seq < (SELECT n FROM fragment_clock) - 600000000;
END;

CREATE TRIGGER answer_changes_workspace_memberships_delete AFTER DELETE ON workspace_memberships BEGIN
    UPDATE fragment_clock SET n = max(n + 1, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
    INSERT OR IGNORE INTO answer_changes SELECT n, 1, OLD.user_id FROM fragment_clock;
    DELETE FROM answer_changes WHERE seq < (SELECT n FROM fragment_clock) - 600000000;
END;

CREATE TRIGGER answer_changes_workspaces_insert AFTER INSERT ON workspaces BEGIN
    UPDATE fragment_clock SET n = max(n + 1, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
    INSERT OR IGNORE INTO answer_changes SELECT n, 4, NEW.deployment_id FROM fragment_clock;
    DELETE FROM answer_changes WHERE seq < (SELECT n FROM fragment_clock) - 600000000;
END;

CREATE TRIGGER answer_changes_workspaces_update AFTER UPDATE ON workspaces BEGIN
    UPDATE fragment_clock SET n = max(n + 1, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
    INSERT OR IGNORE INTO answer_changes SELECT n, 2, NEW.id FROM fragment_clock WHERE NEW.id = OLD.id AND NEW.deployment_id = OLD.deployment_id AND NEW.deleted_at IS OLD.deleted_at;
    INSERT OR IGNORE INTO answer_changes SELECT n, 4, OLD.deployment_id FROM fragment_clock WHERE NOT (NEW.id = OLD.id AND NEW.deployment_id = OLD.deployment_id AND NEW.deleted_at IS OLD.deleted_at);
    INSERT OR IGNORE INTO answer_changes SELECT n, 4, NEW.deployment_id FROM fragment_clock WHERE NOT (NEW.id = OLD.id AND NEW.deployment_id = OLD.deployment_id AND NEW.deleted_at IS OLD.deleted_at);
    DELETE FROM answer_changes WHERE seq < (SELECT n FROM fragment_clock) - 600000000;
END;

CREATE TRIGGER answer_changes_workspaces_delete AFTER DELETE ON workspaces BEGIN
    UPDATE fragment_clock SET n = max(n + 1, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
    INSERT OR IGNORE INTO answer_changes SELECT n, 2, OLD.id FROM fragment_clock;
    DELETE FROM answer_changes WHERE seq < (SELECT n FROM fragment_clock) - 600000000;
END;

CREATE TRIGGER answer_changes_organizations_insert AFTER INSERT ON organizations BEGIN
    UPDATE fragment_clock SET n = max(n + 1, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
    INSERT OR IGNORE INTO answer_changes SELECT n, 4, NEW.deployment_id FROM fragment_clock;
    DELETE FROM answer_changes WHERE seq < (SELECT n FROM fragment_clock) - 600000000;
END;

CREATE TRIGGER answer_changes_organizations_update AFTER UPDATE ON organizations BEGIN
    UPDATE fragment_clock SET n = max(n + 1, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
    INSERT OR IGNORE INTO answer_changes SELECT n, 3, NEW.id FROM fragment_clock WHERE NEW.id = OLD.id AND NEW.deployment_id = OLD.deployment_id AND NEW.deleted_at IS OLD.deleted_at;
    INSERT OR IGNORE INTO answer_changes SELECT n, 4, OLD.deployment_id FROM fragment_clock WHERE NOT (NEW.id = OLD.id AND NEW.deployment_id = OLD.deployment_id AND NEW.deleted_at IS OLD.deleted_at);
    INSERT OR IGNORE INTO answer_changes SELECT n, 4, NEW.deployment_id FROM fragment_clock WHERE NOT (NEW.id = OLD.id AND NEW.deployment_id = OLD.deployment_id AND NEW.deleted_at IS OLD.deleted_at);
    DELETE FROM answer_changes WHERE seq < (SELECT n FROM fragment_clock) - 600000000;
END;

CREATE TRIGGER answer_changes_organizations_delete AFTER DELETE ON organizations BEGIN
    UPDATE fragment_clock SET n = max(n + 1, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
    INSERT OR IGNORE INTO answer_changes SELECT n, 3, OLD.id FROM fragment_clock;
    DELETE FROM answer_changes WHERE seq < (SELECT n FROM fragment_clock) - 600000000;
END;

UPDATE fragment_clock SET n = max(n + 1, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
INSERT OR IGNORE INTO answer_changes SELECT n, 0, 0 FROM fragment_clock;
