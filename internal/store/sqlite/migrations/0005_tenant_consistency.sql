-- Tenants stay apart by construction: a workspace membership's roles are
-- roles of its workspace, an organization membership's roles roles of its
-- organization, a workspace role belongs to its workspace's deployment, and a
-- segment link joins an organization or workspace and a segment of one
-- deployment. Before this, a row written by another program could hand one
-- workspace's workspace:admin role (and with it the admin bypass) to a member
-- of another.
--
-- PostgreSQL says it with composite foreign keys. SQLite cannot add a foreign
-- key without rebuilding the table, and a rebuild drops the triggers other
-- migrations put on it, so here triggers refuse the mismatch: on inserting a
-- link and on updating the scope column of either end. They compare only
-- rows that exist (`<>` is not true against NULL): an unknown id is left to
-- the foreign key, whose error the loader explains. A link row is a pair of
-- keys, inserted or deleted, never updated: an update is refused outright
-- rather than checked twice over.
CREATE TRIGGER tenant_workspace_membership_roles_update BEFORE UPDATE ON workspace_membership_roles
BEGIN SELECT RAISE(ABORT, 'links are inserted or deleted, not updated'); END;
CREATE TRIGGER tenant_organization_membership_roles_update BEFORE UPDATE ON organization_membership_roles
BEGIN SELECT RAISE(ABORT, 'links are inserted or deleted, not updated'); END;
CREATE TRIGGER tenant_organization_segments_update BEFORE UPDATE ON organization_segments
BEGIN SELECT RAISE(ABORT, 'links are inserted or deleted, not updated'); END;
CREATE TRIGGER tenant_workspace_segments_update BEFORE UPDATE ON workspace_segments
BEGIN SELECT RAISE(ABORT, 'links are inserted or deleted, not updated'); END;

-- Workspace membership ↔ workspace role: one workspace.
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

-- A workspace role and its workspace: one deployment.
CREATE TRIGGER tenant_workspace_roles_insert BEFORE INSERT ON workspace_roles
WHEN (SELECT deployment_id FROM workspaces WHERE id = NEW.workspace_id) <> NEW.deployment_id
BEGIN SELECT RAISE(ABORT, 'tenant: workspace role of another deployment'); END;
CREATE TRIGGER tenant_workspace_roles_update BEFORE UPDATE OF workspace_id, deployment_id ON workspace_roles
WHEN (SELECT deployment_id FROM workspaces WHERE id = NEW.workspace_id) <> NEW.deployment_id
BEGIN SELECT RAISE(ABORT, 'tenant: workspace role of another deployment'); END;

-- Organization membership ↔ organization role: one organization.
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

-- Segment links: the organization or workspace and the segment, one deployment.
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
