-- Tenants stay apart by construction: a workspace membership's roles are
-- roles of its workspace, an organization membership's roles roles of its
-- organization, a workspace role belongs to its workspace's deployment, and a
-- segment link joins an organization or workspace and a segment of one
-- deployment. Before this, a row written by another program could hand one
-- workspace's workspace:admin role (and with it the admin bypass) to a member
-- of another.
--
-- Composite foreign keys say it: each link row carries the scope both of its
-- ends must share. The loader does not write that column; a trigger copies it
-- from the link's owner, so the foreign key to the other end decides.

ALTER TABLE workspaces ADD CONSTRAINT workspaces_id_deployment UNIQUE (id, deployment_id);
ALTER TABLE segments ADD CONSTRAINT segments_id_deployment UNIQUE (id, deployment_id);
ALTER TABLE workspace_roles ADD CONSTRAINT workspace_roles_id_workspace UNIQUE (id, workspace_id);
ALTER TABLE workspace_memberships ADD CONSTRAINT workspace_memberships_id_workspace UNIQUE (id, workspace_id);
ALTER TABLE organization_roles ADD CONSTRAINT organization_roles_id_organization UNIQUE (id, organization_id);
ALTER TABLE organization_memberships ADD CONSTRAINT organization_memberships_id_organization UNIQUE (id, organization_id);

ALTER TABLE workspace_roles ADD CONSTRAINT workspace_roles_workspace_deployment
    FOREIGN KEY (workspace_id, deployment_id) REFERENCES workspaces (id, deployment_id);

-- workspace_membership_roles: both ends in one workspace.
ALTER TABLE workspace_membership_roles ADD COLUMN workspace_id bigint;
UPDATE workspace_membership_roles l SET workspace_id = m.workspace_id
    FROM workspace_memberships m WHERE m.id = l.workspace_membership_id;
ALTER TABLE workspace_membership_roles ALTER COLUMN workspace_id SET NOT NULL,
    ADD CONSTRAINT workspace_membership_roles_membership_workspace
        FOREIGN KEY (workspace_membership_id, workspace_id) REFERENCES workspace_memberships (id, workspace_id),
    ADD CONSTRAINT workspace_membership_roles_role_workspace
        FOREIGN KEY (workspace_role_id, workspace_id) REFERENCES workspace_roles (id, workspace_id);

-- organization_membership_roles: both ends in one organization.
ALTER TABLE organization_membership_roles ADD COLUMN organization_id bigint;
UPDATE organization_membership_roles l SET organization_id = m.organization_id
    FROM organization_memberships m WHERE m.id = l.organization_membership_id;
ALTER TABLE organization_membership_roles ALTER COLUMN organization_id SET NOT NULL,
    ADD CONSTRAINT organization_membership_roles_membership_organization
        FOREIGN KEY (organization_membership_id, organization_id) REFERENCES organization_memberships (id, organization_id),
    ADD CONSTRAINT organization_membership_roles_role_organization
        FOREIGN KEY (organization_role_id, organization_id) REFERENCES organization_roles (id, organization_id);

-- Segment links: both ends in one deployment.
ALTER TABLE organization_segments ADD COLUMN deployment_id bigint;
UPDATE organization_segments l SET deployment_id = o.deployment_id
    FROM organizations o WHERE o.id = l.organization_id;
ALTER TABLE organization_segments ALTER COLUMN deployment_id SET NOT NULL,
    ADD CONSTRAINT organization_segments_organization_deployment
        FOREIGN KEY (organization_id, deployment_id) REFERENCES organizations (id, deployment_id),
    ADD CONSTRAINT organization_segments_segment_deployment
        FOREIGN KEY (segment_id, deployment_id) REFERENCES segments (id, deployment_id);

ALTER TABLE workspace_segments ADD COLUMN deployment_id bigint;
UPDATE workspace_segments l SET deployment_id = w.deployment_id
    FROM workspaces w WHERE w.id = l.workspace_id;
ALTER TABLE workspace_segments ALTER COLUMN deployment_id SET NOT NULL,
    ADD CONSTRAINT workspace_segments_workspace_deployment
        FOREIGN KEY (workspace_id, deployment_id) REFERENCES workspaces (id, deployment_id),
    ADD CONSTRAINT workspace_segments_segment_deployment
        FOREIGN KEY (segment_id, deployment_id) REFERENCES segments (id, deployment_id);

-- The scope columns are the owner's, whatever a writer says: copied on every
-- insert and update (an owner that does not exist leaves NULL, refused by
-- NOT NULL before the foreign keys would say so).
CREATE FUNCTION link_scope() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    CASE TG_TABLE_NAME
    WHEN 'workspace_membership_roles' THEN
        NEW.workspace_id := (SELECT workspace_id FROM workspace_memberships WHERE id = NEW.workspace_membership_id);
    WHEN 'organization_membership_roles' THEN
        NEW.organization_id := (SELECT organization_id FROM organization_memberships WHERE id = NEW.organization_membership_id);
    WHEN 'organization_segments' THEN
        NEW.deployment_id := (SELECT deployment_id FROM organizations WHERE id = NEW.organization_id);
    WHEN 'workspace_segments' THEN
        NEW.deployment_id := (SELECT deployment_id FROM workspaces WHERE id = NEW.workspace_id);
    END CASE;
    RETURN NEW;
END $$;

CREATE TRIGGER workspace_membership_roles_scope BEFORE INSERT OR UPDATE ON workspace_membership_roles
    FOR EACH ROW EXECUTE FUNCTION link_scope();
CREATE TRIGGER organization_membership_roles_scope BEFORE INSERT OR UPDATE ON organization_membership_roles
    FOR EACH ROW EXECUTE FUNCTION link_scope();
CREATE TRIGGER organization_segments_scope BEFORE INSERT OR UPDATE ON organization_segments
    FOR EACH ROW EXECUTE FUNCTION link_scope();
CREATE TRIGGER workspace_segments_scope BEFORE INSERT OR UPDATE ON workspace_segments
    FOR EACH ROW EXECUTE FUNCTION link_scope();
