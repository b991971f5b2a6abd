-- constraint answer_changes.answer_changes_pkey
PRIMARY KEY (seq, kind, id)

-- constraint answer_changes.answer_changes_stamp
TRIGGER DEFERRABLE INITIALLY DEFERRED

-- constraint deployment_hosts.deployment_hosts_deployment_id_fkey
FOREIGN KEY (deployment_id) REFERENCES deployments(id)

-- constraint deployment_hosts.deployment_hosts_pkey
PRIMARY KEY (host)

-- constraint deployment_hosts.host
CHECK (((host <> ''::text) AND (host = lower(host))))

-- constraint deployment_key_pairs.deployment_key_pairs_deployment_id_fkey
FOREIGN KEY (deployment_id) REFERENCES deployments(id)

-- constraint deployment_key_pairs.deployment_key_pairs_pkey
PRIMARY KEY (deployment_id)

-- constraint deployment_key_pairs.private_key_pem
CHECK ((private_key_pem <> ''::text))

-- constraint deployment_key_pairs.public_key_pem
CHECK ((public_key_pem <> ''::text))

-- constraint deployments.deployments_pkey
PRIMARY KEY (id)

-- constraint deployments.host
CHECK (((host <> ''::text) AND (host = lower(host))))

-- constraint deployments.mode
CHECK ((mode = ANY (ARRAY['production'::text, 'staging'::text])))

-- constraint id_nodes.id_nodes_node_check
CHECK (((node >= 0) AND (node <= 1023)))

-- constraint id_nodes.id_nodes_pkey
PRIMARY KEY (node)

-- constraint organization_membership_roles.organization_membership_roles_membership_organization
FOREIGN KEY (organization_membership_id, organization_id) REFERENCES organization_memberships(id, organization_id)

-- constraint organization_membership_roles.organization_membership_roles_pkey
PRIMARY KEY (organization_membership_id, organization_role_id)

-- constraint organization_membership_roles.organization_membership_roles_role_organization
FOREIGN KEY (organization_role_id, organization_id) REFERENCES organization_roles(id, organization_id)

-- constraint organization_memberships.organization_memberships_id_organization
UNIQUE (id, organization_id)

-- constraint organization_memberships.organization_memberships_id_organization_user
UNIQUE (id, organization_id, user_id)

-- constraint organization_memberships.organization_memberships_organization_id_fkey
FOREIGN KEY (organization_id) REFERENCES organizations(id)

-- constraint organization_memberships.organization_memberships_pkey
PRIMARY KEY (id)

-- constraint organization_memberships.organization_memberships_user_id_fkey
FOREIGN KEY (user_id) REFERENCES users(id)

-- constraint organization_roles.organization_roles_id_organization
UNIQUE (id, organization_id)

-- constraint organization_roles.organization_roles_organization_id_deployment_id_fkey
FOREIGN KEY (organization_id, deployment_id) REFERENCES organizations(id, deployment_id)

-- constraint organization_roles.organization_roles_pkey
PRIMARY KEY (id)

-- constraint organization_segments.organization_segments_organization_deployment
FOREIGN KEY (organization_id, deployment_id) REFERENCES organizations(id, deployment_id)

-- constraint organization_segments.organization_segments_pkey
PRIMARY KEY (organization_id, segment_id)

-- constraint organization_segments.organization_segments_segment_deployment
FOREIGN KEY (segment_id, deployment_id) REFERENCES segments(id, deployment_id)

-- constraint organizations.organizations_auto_assigned_workspace_id_id_fkey
FOREIGN KEY (auto_assigned_workspace_id, id) REFERENCES workspaces(id, organization_id)

-- constraint organizations.organizations_deployment_id_fkey
FOREIGN KEY (deployment_id) REFERENCES deployments(id)

-- constraint organizations.organizations_id_deployment
UNIQUE (id, deployment_id)

-- constraint organizations.organizations_pkey
PRIMARY KEY (id)

-- constraint organizations.private_metadata
CHECK ((json_typeof(private_metadata) = 'object'::text))

-- constraint organizations.public_metadata
CHECK ((json_typeof(public_metadata) = 'object'::text))

-- constraint rotating_tokens.rotating_tokens_check
CHECK (((next_token_id IS NULL) = (rotated_at IS NULL)))

-- constraint rotating_tokens.rotating_tokens_next_token_id_fkey
FOREIGN KEY (next_token_id) REFERENCES rotating_tokens(id)

-- constraint rotating_tokens.rotating_tokens_pkey
PRIMARY KEY (id)

-- constraint rotating_tokens.rotating_tokens_session_id_fkey
FOREIGN KEY (session_id) REFERENCES sessions(id)

-- constraint schema_migrations.schema_migrations_pkey
PRIMARY KEY (version)

-- constraint segments.segments_deployment_id_fkey
FOREIGN KEY (deployment_id) REFERENCES deployments(id)

-- constraint segments.segments_id_deployment
UNIQUE (id, deployment_id)

-- constraint segments.segments_pkey
PRIMARY KEY (id)

-- constraint segments.type
CHECK ((type = ANY (ARRAY['user'::text, 'organization'::text, 'workspace'::text])))

-- constraint sessions.sessions_active_sign_in_id_fkey
FOREIGN KEY (active_sign_in_id) REFERENCES sign_ins(id)

-- constraint sessions.sessions_deployment_id_fkey
FOREIGN KEY (deployment_id) REFERENCES deployments(id)

-- constraint sessions.sessions_pending_token_id_fkey
FOREIGN KEY (pending_token_id) REFERENCES rotating_tokens(id)

-- constraint sessions.sessions_pkey
PRIMARY KEY (id)

-- constraint sign_ins.sign_ins_pkey
PRIMARY KEY (id)

-- constraint sign_ins.sign_ins_session_id_fkey
FOREIGN KEY (session_id) REFERENCES sessions(id)

-- constraint sign_ins.sign_ins_user_id_fkey
FOREIGN KEY (user_id) REFERENCES users(id)

-- constraint user_authenticators.type
CHECK ((type <> ''::text))

-- constraint user_authenticators.user_authenticators_pkey
PRIMARY KEY (id)

-- constraint user_authenticators.user_authenticators_user_id_fkey
FOREIGN KEY (user_id) REFERENCES users(id)

-- constraint users.email
CHECK ((email <> ''::text))

-- constraint users.users_deployment_id_fkey
FOREIGN KEY (deployment_id) REFERENCES deployments(id)

-- constraint users.users_pkey
PRIMARY KEY (id)

-- constraint workspace_membership_roles.workspace_membership_roles_membership_workspace
FOREIGN KEY (workspace_membership_id, workspace_id) REFERENCES workspace_memberships(id, workspace_id)

-- constraint workspace_membership_roles.workspace_membership_roles_pkey
PRIMARY KEY (workspace_membership_id, workspace_role_id)

-- constraint workspace_membership_roles.workspace_membership_roles_role_workspace
FOREIGN KEY (workspace_role_id, workspace_id) REFERENCES workspace_roles(id, workspace_id)

-- constraint workspace_memberships.public_metadata
CHECK ((json_typeof(public_metadata) = 'object'::text))

-- constraint workspace_memberships.workspace_memberships_id_workspace
UNIQUE (id, workspace_id)

-- constraint workspace_memberships.workspace_memberships_organization_membership_id_organizat_fkey
FOREIGN KEY (organization_membership_id, organization_id, user_id) REFERENCES organization_memberships(id, organization_id, user_id)

-- constraint workspace_memberships.workspace_memberships_pkey
PRIMARY KEY (id)

-- constraint workspace_memberships.workspace_memberships_workspace_id_organization_id_fkey
FOREIGN KEY (workspace_id, organization_id) REFERENCES workspaces(id, organization_id)

-- constraint workspace_roles.workspace_roles_deployment_id_fkey
FOREIGN KEY (deployment_id) REFERENCES deployments(id)

-- constraint workspace_roles.workspace_roles_id_workspace
UNIQUE (id, workspace_id)

-- constraint workspace_roles.workspace_roles_pkey
PRIMARY KEY (id)

-- constraint workspace_roles.workspace_roles_workspace_deployment
FOREIGN KEY (workspace_id, deployment_id) REFERENCES workspaces(id, deployment_id)

-- constraint workspace_roles.workspace_roles_workspace_id_fkey
FOREIGN KEY (workspace_id) REFERENCES workspaces(id)

-- constraint workspace_segments.workspace_segments_pkey
PRIMARY KEY (workspace_id, segment_id)

-- constraint workspace_segments.workspace_segments_segment_deployment
FOREIGN KEY (segment_id, deployment_id) REFERENCES segments(id, deployment_id)

-- constraint workspace_segments.workspace_segments_workspace_deployment
FOREIGN KEY (workspace_id, deployment_id) REFERENCES workspaces(id, deployment_id)

-- constraint workspaces.private_metadata
CHECK ((json_typeof(private_metadata) = 'object'::text))

-- constraint workspaces.public_metadata
CHECK ((json_typeof(public_metadata) = 'object'::text))

-- constraint workspaces.workspaces_id_deployment
UNIQUE (id, deployment_id)

-- constraint workspaces.workspaces_id_organization
UNIQUE (id, organization_id)

-- constraint workspaces.workspaces_organization_id_deployment_id_fkey
FOREIGN KEY (organization_id, deployment_id) REFERENCES organizations(id, deployment_id)

-- constraint workspaces.workspaces_pkey
PRIMARY KEY (id)

-- function answer_changes_members()
CREATE OR REPLACE FUNCTION answer_changes_members()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO answer_changes SELECT DISTINCT answer_pending(), 1, user_id FROM new_rows ON CONFLICT DO NOTHING;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO answer_changes SELECT DISTINCT answer_pending(), 1, user_id FROM old_rows ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $function$

-- function answer_changes_shared()
CREATE OR REPLACE FUNCTION answer_changes_shared()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
DECLARE
    k smallint := TG_ARGV[0]::smallint;
BEGIN
    CASE TG_OP
    WHEN 'INSERT' THEN
        INSERT INTO answer_changes SELECT DISTINCT answer_pending(), 4, deployment_id FROM new_rows ON CONFLICT DO NOTHING;
    WHEN 'DELETE' THEN
        INSERT INTO answer_changes SELECT DISTINCT answer_pending(), k, id FROM old_rows ON CONFLICT DO NOTHING;
    ELSE
        INSERT INTO answer_changes
        SELECT DISTINCT answer_pending(), k, n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
         WHERE o.deployment_id = n.deployment_id AND o.deleted_at IS NOT DISTINCT FROM n.deleted_at
        ON CONFLICT DO NOTHING;
        INSERT INTO answer_changes
        SELECT DISTINCT answer_pending(), 4, d FROM (
            SELECT n.deployment_id AS d FROM new_rows n LEFT JOIN old_rows o ON o.id = n.id
             WHERE o.id IS NULL OR o.deployment_id <> n.deployment_id OR o.deleted_at IS DISTINCT FROM n.deleted_at
            UNION ALL
            SELECT o.deployment_id FROM old_rows o LEFT JOIN new_rows n ON n.id = o.id
             WHERE n.id IS NULL OR o.deployment_id <> n.deployment_id OR o.deleted_at IS DISTINCT FROM n.deleted_at) t
        ON CONFLICT DO NOTHING;
    END CASE;
    RETURN NULL;
END $function$

-- function answer_changes_stamp()
CREATE OR REPLACE FUNCTION answer_changes_stamp()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
DECLARE
    s bigint;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM answer_changes WHERE seq = NEW.seq) THEN
        RETURN NULL;
    END IF;
    PERFORM pg_advisory_xact_lock(7305617010711140);
    s := greatest(nextval('answer_clock'), micros(clock_timestamp()));
    PERFORM setval('answer_clock', s);
    IF (SELECT count(*) FROM (SELECT 1 FROM answer_changes WHERE seq = NEW.seq LIMIT 257) t) > 256 THEN
        DELETE FROM answer_changes WHERE seq = NEW.seq;
        INSERT INTO answer_changes VALUES (s, 0, 0);
    ELSE
        UPDATE answer_changes SET seq = s WHERE seq = NEW.seq;
    END IF;
    DELETE FROM answer_changes WHERE seq > 0 AND seq < s - 600000000;
    RETURN NULL;
END $function$

-- function answer_changes_truncated()
CREATE OR REPLACE FUNCTION answer_changes_truncated()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    INSERT INTO answer_changes VALUES (answer_pending(), 0, 0) ON CONFLICT DO NOTHING;
    RETURN NULL;
END $function$

-- function answer_pending()
CREATE OR REPLACE FUNCTION answer_pending()
 RETURNS bigint
 LANGUAGE sql
AS $function$ SELECT -(pg_current_xact_id()::text::bigint) $function$

-- function fragment_version()
CREATE OR REPLACE FUNCTION fragment_version()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        NEW.version := greatest(OLD.version + 1, micros(clock_timestamp()));
    ELSE
        NEW.version := micros(clock_timestamp());
    END IF;
    RETURN NEW;
END $function$

-- function link_scope()
CREATE OR REPLACE FUNCTION link_scope()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
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
END $function$

-- function members_inserted()
CREATE OR REPLACE FUNCTION members_inserted()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    IF TG_TABLE_NAME = 'workspace_memberships' THEN
        UPDATE workspaces w SET member_count = w.member_count + n.c
          FROM (SELECT workspace_id AS id, count(*) AS c FROM inserted WHERE deleted_at IS NULL GROUP BY 1) n
         WHERE w.id = n.id;
    ELSE
        UPDATE organizations o SET member_count = o.member_count + n.c
          FROM (SELECT organization_id AS id, count(*) AS c FROM inserted WHERE deleted_at IS NULL GROUP BY 1) n
         WHERE o.id = n.id;
    END IF;
    RETURN NULL;
END $function$

-- function memberships_inserted()
CREATE OR REPLACE FUNCTION memberships_inserted()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    IF TG_TABLE_NAME = 'workspace_memberships' THEN
        PERFORM refresh_role_refs(ARRAY(
            SELECT DISTINCT wr.workspace_membership_id FROM workspace_membership_roles wr
              JOIN inserted m ON m.id = wr.workspace_membership_id));
    ELSE
        PERFORM refresh_permissions(ARRAY(
            SELECT DISTINCT orl.organization_membership_id FROM organization_membership_roles orl
              JOIN inserted m ON m.id = orl.organization_membership_id));
    END IF;
    RETURN NULL;
END $function$

-- function micros(timestamp with time zone)
CREATE OR REPLACE FUNCTION micros(timestamp with time zone)
 RETURNS bigint
 LANGUAGE sql
 IMMUTABLE PARALLEL SAFE
AS $function$ SELECT (extract(epoch FROM $1) * 1000000)::bigint $function$

-- function organization_members_count()
CREATE OR REPLACE FUNCTION organization_members_count()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.deleted_at IS NULL THEN
        UPDATE organizations SET member_count = member_count - 1 WHERE id = OLD.organization_id;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.deleted_at IS NULL THEN
        UPDATE organizations SET member_count = member_count + 1 WHERE id = NEW.organization_id;
    END IF;
    RETURN NULL;
END $function$

-- function organization_membership_on_rows()
CREATE OR REPLACE FUNCTION organization_membership_on_rows()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    UPDATE workspace_memberships wm
       SET (organization_membership_live, organization_permissions) = (om.deleted_at IS NULL, om.permissions)
      FROM organization_memberships om
     WHERE om.id = NEW.id AND wm.user_id = NEW.user_id AND wm.organization_membership_id = NEW.id
       AND wm.deleted_at IS NULL;
    RETURN NULL;
END $function$

-- function organization_membership_roles_permissions()
CREATE OR REPLACE FUNCTION organization_membership_roles_permissions()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM refresh_permissions(ARRAY(SELECT DISTINCT organization_membership_id FROM old_links));
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        PERFORM refresh_permissions(ARRAY(SELECT DISTINCT organization_membership_id FROM new_links));
    END IF;
    RETURN NULL;
END $function$

-- function organization_roles_permissions()
CREATE OR REPLACE FUNCTION organization_roles_permissions()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    PERFORM refresh_permissions(ARRAY(
        SELECT DISTINCT orl.organization_membership_id FROM organization_membership_roles orl
          JOIN new_roles r ON r.id = orl.organization_role_id));
    RETURN NULL;
END $function$

-- function organization_segments_version()
CREATE OR REPLACE FUNCTION organization_segments_version()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    UPDATE organizations SET version = version WHERE id IN (
        SELECT organization_id FROM (VALUES (OLD.organization_id), (NEW.organization_id)) AS t (organization_id));
    RETURN NULL;
END $function$

-- function permissions_of(membership bigint)
CREATE OR REPLACE FUNCTION permissions_of(membership bigint)
 RETURNS text
 LANGUAGE sql
 STABLE
AS $function$
    SELECT json_agg(DISTINCT p COLLATE "C")::text
      FROM organization_membership_roles orl,
           unnest((SELECT r.permissions FROM organization_roles r
                    WHERE r.id = orl.organization_role_id AND r.deleted_at IS NULL)) p
     WHERE orl.organization_membership_id = membership $function$

-- function refresh_derived(tbl regclass, col name, derive regproc, ids bigint[])
CREATE OR REPLACE FUNCTION refresh_derived(tbl regclass, col name, derive regproc, ids bigint[])
 RETURNS void
 LANGUAGE plpgsql
 SET jit TO 'off'
AS $function$
BEGIN
    EXECUTE format('SELECT 1 FROM %1$s t WHERE t.id = ANY ($1) ORDER BY t.id FOR NO KEY UPDATE', tbl) USING ids;
    EXECUTE format('UPDATE %1$s t SET %2$I = %3$s(t.id) FROM (SELECT DISTINCT id FROM unnest($1) id) m
                     WHERE t.id = m.id AND t.%2$I IS DISTINCT FROM %3$s(t.id)', tbl, col, derive) USING ids;
END $function$

-- function refresh_permissions(ids bigint[])
CREATE OR REPLACE FUNCTION refresh_permissions(ids bigint[])
 RETURNS void
 LANGUAGE sql
AS $function$
    SELECT refresh_derived('organization_memberships', 'permissions', 'permissions_of', ids) $function$

-- function refresh_role_refs(ids bigint[])
CREATE OR REPLACE FUNCTION refresh_role_refs(ids bigint[])
 RETURNS void
 LANGUAGE sql
AS $function$
    SELECT refresh_derived('workspace_memberships', 'role_refs', 'role_refs_of', ids) $function$

-- function role_refs_of(membership bigint)
CREATE OR REPLACE FUNCTION role_refs_of(membership bigint)
 RETURNS text
 LANGUAGE sql
 STABLE
AS $function$
    SELECT string_agg((SELECT r.id || '.' || r.version FROM workspace_roles r
                        WHERE r.id = wr.workspace_role_id AND r.deleted_at IS NULL), ',' ORDER BY wr.workspace_role_id)
      FROM workspace_membership_roles wr
     WHERE wr.workspace_membership_id = membership $function$

-- function roles_changed()
CREATE OR REPLACE FUNCTION roles_changed()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    IF TG_TABLE_NAME = 'workspace_roles' THEN
        PERFORM refresh_role_refs(ARRAY(
            SELECT DISTINCT wr.workspace_membership_id FROM workspace_membership_roles wr
              JOIN changed_roles r ON r.id = wr.workspace_role_id));
    ELSE
        PERFORM refresh_permissions(ARRAY(
            SELECT DISTINCT orl.organization_membership_id FROM organization_membership_roles orl
              JOIN changed_roles r ON r.id = orl.organization_role_id));
    END IF;
    RETURN NULL;
END $function$

-- function segments_inserted()
CREATE OR REPLACE FUNCTION segments_inserted()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    UPDATE workspaces SET version = version
     WHERE id IN (SELECT l.workspace_id FROM workspace_segments l JOIN inserted s ON s.id = l.segment_id);
    UPDATE organizations SET version = version
     WHERE id IN (SELECT l.organization_id FROM organization_segments l JOIN inserted s ON s.id = l.segment_id);
    RETURN NULL;
END $function$

-- function segments_version()
CREATE OR REPLACE FUNCTION segments_version()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    UPDATE workspaces SET version = version
     WHERE id IN (SELECT workspace_id FROM workspace_segments WHERE segment_id = OLD.id);
    UPDATE organizations SET version = version
     WHERE id IN (SELECT organization_id FROM organization_segments WHERE segment_id = OLD.id);
    RETURN NULL;
END $function$

-- function truncated()
CREATE OR REPLACE FUNCTION truncated()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    CASE TG_TABLE_NAME
    WHEN 'workspace_membership_roles', 'workspace_roles' THEN
        PERFORM refresh_role_refs(ARRAY(SELECT id FROM workspace_memberships WHERE role_refs IS NOT NULL));
    WHEN 'organization_membership_roles', 'organization_roles' THEN
        PERFORM refresh_permissions(ARRAY(SELECT id FROM organization_memberships WHERE permissions IS NOT NULL));
    WHEN 'workspace_segments' THEN
        UPDATE workspaces SET version = version;
    WHEN 'organization_segments' THEN
        UPDATE organizations SET version = version;
    WHEN 'segments' THEN
        UPDATE workspaces SET version = version;
        UPDATE organizations SET version = version;
    WHEN 'workspace_memberships' THEN
        UPDATE workspaces SET member_count = 0 WHERE member_count <> 0;
    WHEN 'organization_memberships' THEN
        UPDATE organizations SET member_count = 0 WHERE member_count <> 0;
    END CASE;
    RETURN NULL;
END $function$

-- function workspace_members_count()
CREATE OR REPLACE FUNCTION workspace_members_count()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.deleted_at IS NULL THEN
        UPDATE workspaces SET member_count = member_count - 1 WHERE id = OLD.workspace_id;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.deleted_at IS NULL THEN
        UPDATE workspaces SET member_count = member_count + 1 WHERE id = NEW.workspace_id;
    END IF;
    RETURN NULL;
END $function$

-- function workspace_membership_organization()
CREATE OR REPLACE FUNCTION workspace_membership_organization()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    SELECT om.deleted_at IS NULL, om.permissions
      INTO NEW.organization_membership_live, NEW.organization_permissions
      FROM organization_memberships om WHERE om.id = NEW.organization_membership_id
       FOR SHARE;
    NEW.organization_membership_live := coalesce(NEW.organization_membership_live, true);
    RETURN NEW;
END $function$

-- function workspace_membership_roles_refs()
CREATE OR REPLACE FUNCTION workspace_membership_roles_refs()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM refresh_role_refs(ARRAY(SELECT DISTINCT workspace_membership_id FROM old_links));
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        PERFORM refresh_role_refs(ARRAY(SELECT DISTINCT workspace_membership_id FROM new_links));
    END IF;
    RETURN NULL;
END $function$

-- function workspace_roles_refs()
CREATE OR REPLACE FUNCTION workspace_roles_refs()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    PERFORM refresh_role_refs(ARRAY(
        SELECT DISTINCT wr.workspace_membership_id FROM workspace_membership_roles wr
          JOIN new_roles r ON r.id = wr.workspace_role_id));
    RETURN NULL;
END $function$

-- function workspace_segments_version()
CREATE OR REPLACE FUNCTION workspace_segments_version()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    UPDATE workspaces SET version = version WHERE id IN (
        SELECT workspace_id FROM (VALUES (OLD.workspace_id), (NEW.workspace_id)) AS t (workspace_id));
    RETURN NULL;
END $function$

-- index answer_changes_pkey
CREATE UNIQUE INDEX answer_changes_pkey ON answer_changes USING btree (seq, kind, id)

-- index deployment_hosts_pkey
CREATE UNIQUE INDEX deployment_hosts_pkey ON deployment_hosts USING btree (host)

-- index deployment_key_pairs_pkey
CREATE UNIQUE INDEX deployment_key_pairs_pkey ON deployment_key_pairs USING btree (deployment_id)

-- index deployments_pkey
CREATE UNIQUE INDEX deployments_pkey ON deployments USING btree (id)

-- index id_nodes_pkey
CREATE UNIQUE INDEX id_nodes_pkey ON id_nodes USING btree (node)

-- index organization_membership_roles_pkey
CREATE UNIQUE INDEX organization_membership_roles_pkey ON organization_membership_roles USING btree (organization_membership_id, organization_role_id)

-- index organization_memberships_id_organization
CREATE UNIQUE INDEX organization_memberships_id_organization ON organization_memberships USING btree (id, organization_id)

-- index organization_memberships_id_organization_user
CREATE UNIQUE INDEX organization_memberships_id_organization_user ON organization_memberships USING btree (id, organization_id, user_id)

-- index organization_memberships_live
CREATE UNIQUE INDEX organization_memberships_live ON organization_memberships USING btree (organization_id, user_id) WHERE (deleted_at IS NULL)

-- index organization_memberships_pkey
CREATE UNIQUE INDEX organization_memberships_pkey ON organization_memberships USING btree (id)

-- index organization_roles_id_organization
CREATE UNIQUE INDEX organization_roles_id_organization ON organization_roles USING btree (id, organization_id)

-- index organization_roles_pkey
CREATE UNIQUE INDEX organization_roles_pkey ON organization_roles USING btree (id)

-- index organization_segments_pkey
CREATE UNIQUE INDEX organization_segments_pkey ON organization_segments USING btree (organization_id, segment_id)

-- index organizations_id_deployment
CREATE UNIQUE INDEX organizations_id_deployment ON organizations USING btree (id, deployment_id)

-- index organizations_pkey
CREATE UNIQUE INDEX organizations_pkey ON organizations USING btree (id)

-- index rotating_tokens_pkey
CREATE UNIQUE INDEX rotating_tokens_pkey ON rotating_tokens USING btree (id)

-- index rotating_tokens_session
CREATE INDEX rotating_tokens_session ON rotating_tokens USING btree (session_id)

-- index schema_migrations_pkey
CREATE UNIQUE INDEX schema_migrations_pkey ON schema_migrations USING btree (version)

-- index segments_id_deployment
CREATE UNIQUE INDEX segments_id_deployment ON segments USING btree (id, deployment_id)

-- index segments_pkey
CREATE UNIQUE INDEX segments_pkey ON segments USING btree (id)

-- index sessions_pkey
CREATE UNIQUE INDEX sessions_pkey ON sessions USING btree (id)

-- index sign_ins_pkey
CREATE UNIQUE INDEX sign_ins_pkey ON sign_ins USING btree (id)

-- index sign_ins_session
CREATE INDEX sign_ins_session ON sign_ins USING btree (session_id)

-- index user_authenticators_pkey
CREATE UNIQUE INDEX user_authenticators_pkey ON user_authenticators USING btree (id)

-- index user_authenticators_user
CREATE INDEX user_authenticators_user ON user_authenticators USING btree (user_id) WHERE (deleted_at IS NULL)

-- index users_deployment_email
CREATE UNIQUE INDEX users_deployment_email ON users USING btree (deployment_id, lower(email))

-- index users_pkey
CREATE UNIQUE INDEX users_pkey ON users USING btree (id)

-- index workspace_membership_roles_pkey
CREATE UNIQUE INDEX workspace_membership_roles_pkey ON workspace_membership_roles USING btree (workspace_membership_id, workspace_role_id)

-- index workspace_memberships_id_workspace
CREATE UNIQUE INDEX workspace_memberships_id_workspace ON workspace_memberships USING btree (id, workspace_id)

-- index workspace_memberships_live
CREATE UNIQUE INDEX workspace_memberships_live ON workspace_memberships USING btree (workspace_id, user_id) WHERE (deleted_at IS NULL)

-- index workspace_memberships_pkey
CREATE UNIQUE INDEX workspace_memberships_pkey ON workspace_memberships USING btree (id)

-- index workspace_memberships_user
CREATE INDEX workspace_memberships_user ON workspace_memberships USING btree (user_id, created_at DESC, id DESC) WHERE (deleted_at IS NULL)

-- index workspace_roles_id_workspace
CREATE UNIQUE INDEX workspace_roles_id_workspace ON workspace_roles USING btree (id, workspace_id)

-- index workspace_roles_pkey
CREATE UNIQUE INDEX workspace_roles_pkey ON workspace_roles USING btree (id)

-- index workspace_segments_pkey
CREATE UNIQUE INDEX workspace_segments_pkey ON workspace_segments USING btree (workspace_id, segment_id)

-- index workspaces_id_deployment
CREATE UNIQUE INDEX workspaces_id_deployment ON workspaces USING btree (id, deployment_id)

-- index workspaces_id_organization
CREATE UNIQUE INDEX workspaces_id_organization ON workspaces USING btree (id, organization_id)

-- index workspaces_pkey
CREATE UNIQUE INDEX workspaces_pkey ON workspaces USING btree (id)

-- sequence answer_clock

-- sequence fragment_versions

-- table answer_changes
    seq bigint NOT NULL
    kind smallint NOT NULL
    id bigint NOT NULL

-- table deployment_hosts
    host text NOT NULL
    deployment_id bigint NOT NULL

-- table deployment_key_pairs
    deployment_id bigint NOT NULL
    private_key_pem text NOT NULL
    public_key_pem text NOT NULL
    created_at timestamp with time zone NOT NULL

-- table deployments
    id bigint NOT NULL
    host text NOT NULL
    mode text NOT NULL
    ip_allowlist_per_workspace_enabled boolean NOT NULL
    enforce_mfa_per_workspace_enabled boolean NOT NULL
    allowed_origins text[] NOT NULL DEFAULT '{}'::text[]
    created_at timestamp with time zone NOT NULL
    updated_at timestamp with time zone NOT NULL
    deleted_at timestamp with time zone
    cookie_domain text NOT NULL DEFAULT ''::text

-- table id_nodes
    node integer NOT NULL
    holder text NOT NULL
    until_ms bigint NOT NULL

-- table organization_membership_roles
    organization_membership_id bigint NOT NULL
    organization_role_id bigint NOT NULL
    organization_id bigint NOT NULL

-- table organization_memberships
    id bigint NOT NULL
    organization_id bigint NOT NULL
    user_id bigint NOT NULL
    created_at timestamp with time zone NOT NULL
    updated_at timestamp with time zone NOT NULL
    deleted_at timestamp with time zone
    permissions text

-- table organization_roles
    id bigint NOT NULL
    deployment_id bigint NOT NULL
    organization_id bigint NOT NULL
    name text NOT NULL
    permissions text[] NOT NULL
    created_at timestamp with time zone NOT NULL
    updated_at timestamp with time zone NOT NULL
    deleted_at timestamp with time zone

-- table organization_segments
    organization_id bigint NOT NULL
    segment_id bigint NOT NULL
    deployment_id bigint NOT NULL

-- table organizations
    id bigint NOT NULL
    deployment_id bigint NOT NULL
    name text NOT NULL
    image_url text NOT NULL
    description text NOT NULL
    public_metadata json NOT NULL
    private_metadata json NOT NULL
    enforce_mfa boolean NOT NULL
    enable_ip_restriction boolean NOT NULL
    whitelisted_ips text[] NOT NULL
    auto_assigned_workspace_id bigint
    created_at timestamp with time zone NOT NULL
    updated_at timestamp with time zone NOT NULL
    deleted_at timestamp with time zone
    member_count bigint NOT NULL DEFAULT 0
    version bigint NOT NULL DEFAULT 0

-- table rotating_tokens
    id bigint NOT NULL
    session_id bigint NOT NULL
    valid_until timestamp with time zone NOT NULL
    next_token_id bigint
    rotated_at timestamp with time zone
    created_at timestamp with time zone NOT NULL

-- table schema_derived
    checksum text NOT NULL

-- table schema_migrations
    version text NOT NULL
    applied_at timestamp with time zone NOT NULL DEFAULT now()

-- table segments
    id bigint NOT NULL
    deployment_id bigint NOT NULL
    name text NOT NULL
    type text NOT NULL
    created_at timestamp with time zone NOT NULL
    updated_at timestamp with time zone NOT NULL
    deleted_at timestamp with time zone

-- table sessions
    id bigint NOT NULL
    deployment_id bigint NOT NULL
    active_sign_in_id bigint
    created_at timestamp with time zone NOT NULL
    updated_at timestamp with time zone NOT NULL
    deleted_at timestamp with time zone
    pending_token_id bigint

-- table sign_ins
    id bigint NOT NULL
    session_id bigint NOT NULL
    user_id bigint NOT NULL
    expires_at timestamp with time zone NOT NULL
    signed_out_at timestamp with time zone
    created_at timestamp with time zone NOT NULL
    updated_at timestamp with time zone NOT NULL

-- table user_authenticators
    id bigint NOT NULL
    user_id bigint NOT NULL
    type text NOT NULL
    created_at timestamp with time zone NOT NULL
    updated_at timestamp with time zone NOT NULL
    deleted_at timestamp with time zone

-- table users
    id bigint NOT NULL
    deployment_id bigint NOT NULL
    email text NOT NULL
    first_name text NOT NULL
    last_name text NOT NULL
    backup_codes_generated boolean NOT NULL
    created_at timestamp with time zone NOT NULL
    updated_at timestamp with time zone NOT NULL
    deleted_at timestamp with time zone

-- table workspace_membership_roles
    workspace_membership_id bigint NOT NULL
    workspace_role_id bigint NOT NULL
    workspace_id bigint NOT NULL

-- table workspace_memberships
    id bigint NOT NULL
    workspace_id bigint NOT NULL
    organization_id bigint NOT NULL
    organization_membership_id bigint NOT NULL
    user_id bigint NOT NULL
    public_metadata json NOT NULL
    created_at timestamp with time zone NOT NULL
    updated_at timestamp with time zone NOT NULL
    deleted_at timestamp with time zone
    role_refs text
    organization_membership_live boolean NOT NULL DEFAULT true
    organization_permissions text

-- table workspace_roles
    id bigint NOT NULL
    deployment_id bigint NOT NULL
    workspace_id bigint NOT NULL
    name text NOT NULL
    permissions text[] NOT NULL
    created_at timestamp with time zone NOT NULL
    updated_at timestamp with time zone NOT NULL
    deleted_at timestamp with time zone
    version bigint NOT NULL DEFAULT 0

-- table workspace_segments
    workspace_id bigint NOT NULL
    segment_id bigint NOT NULL
    deployment_id bigint NOT NULL

-- table workspaces
    id bigint NOT NULL
    organization_id bigint NOT NULL
    deployment_id bigint NOT NULL
    name text NOT NULL
    image_url text NOT NULL
    description text NOT NULL
    public_metadata json NOT NULL
    private_metadata json NOT NULL
    enforce_2fa boolean NOT NULL
    enable_ip_restriction boolean NOT NULL
    whitelisted_ips text[] NOT NULL
    created_at timestamp with time zone NOT NULL
    updated_at timestamp with time zone NOT NULL
    deleted_at timestamp with time zone
    member_count bigint NOT NULL DEFAULT 0
    version bigint NOT NULL DEFAULT 0

-- trigger answer_changes.answer_changes_stamp
CREATE CONSTRAINT TRIGGER answer_changes_stamp AFTER INSERT ON answer_changes DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN ((new.seq < 0)) EXECUTE FUNCTION answer_changes_stamp()

-- trigger organization_membership_roles.organization_membership_roles_permissions_delete
CREATE TRIGGER organization_membership_roles_permissions_delete AFTER DELETE ON organization_membership_roles REFERENCING OLD TABLE AS old_links FOR EACH STATEMENT EXECUTE FUNCTION organization_membership_roles_permissions()

-- trigger organization_membership_roles.organization_membership_roles_permissions_insert
CREATE TRIGGER organization_membership_roles_permissions_insert AFTER INSERT ON organization_membership_roles REFERENCING NEW TABLE AS new_links FOR EACH STATEMENT WHEN ((current_setting('memberships.load'::text, true) IS DISTINCT FROM 'on'::text)) EXECUTE FUNCTION organization_membership_roles_permissions()

-- trigger organization_membership_roles.organization_membership_roles_permissions_update
CREATE TRIGGER organization_membership_roles_permissions_update AFTER UPDATE ON organization_membership_roles REFERENCING OLD TABLE AS old_links NEW TABLE AS new_links FOR EACH STATEMENT EXECUTE FUNCTION organization_membership_roles_permissions()

-- trigger organization_membership_roles.organization_membership_roles_scope
CREATE TRIGGER organization_membership_roles_scope BEFORE UPDATE ON organization_membership_roles FOR EACH ROW EXECUTE FUNCTION link_scope()

-- trigger organization_membership_roles.organization_membership_roles_scope_insert
CREATE TRIGGER organization_membership_roles_scope_insert BEFORE INSERT ON organization_membership_roles FOR EACH ROW WHEN ((new.organization_id IS NULL)) EXECUTE FUNCTION link_scope()

-- trigger organization_membership_roles.organization_membership_roles_truncated
CREATE TRIGGER organization_membership_roles_truncated AFTER TRUNCATE ON organization_membership_roles FOR EACH STATEMENT EXECUTE FUNCTION truncated()

-- trigger organization_memberships.organization_members_count
CREATE TRIGGER organization_members_count AFTER DELETE OR UPDATE OF organization_id, deleted_at ON organization_memberships FOR EACH ROW EXECUTE FUNCTION organization_members_count()

-- trigger organization_memberships.organization_members_inserted
CREATE TRIGGER organization_members_inserted AFTER INSERT ON organization_memberships REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION members_inserted()

-- trigger organization_memberships.organization_memberships_links
CREATE TRIGGER organization_memberships_links AFTER INSERT ON organization_memberships REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT WHEN ((current_setting('memberships.load'::text, true) IS DISTINCT FROM 'on'::text)) EXECUTE FUNCTION memberships_inserted()

-- trigger organization_memberships.organization_memberships_on_rows
CREATE TRIGGER organization_memberships_on_rows AFTER UPDATE OF permissions, deleted_at ON organization_memberships FOR EACH ROW WHEN (((old.permissions IS DISTINCT FROM new.permissions) OR ((old.deleted_at IS NULL) <> (new.deleted_at IS NULL)))) EXECUTE FUNCTION organization_membership_on_rows()

-- trigger organization_memberships.organization_memberships_truncated
CREATE TRIGGER organization_memberships_truncated AFTER TRUNCATE ON organization_memberships FOR EACH STATEMENT EXECUTE FUNCTION truncated()

-- trigger organization_roles.organization_roles_deleted
CREATE TRIGGER organization_roles_deleted AFTER DELETE ON organization_roles REFERENCING OLD TABLE AS changed_roles FOR EACH STATEMENT EXECUTE FUNCTION roles_changed()

-- trigger organization_roles.organization_roles_inserted
CREATE TRIGGER organization_roles_inserted AFTER INSERT ON organization_roles REFERENCING NEW TABLE AS changed_roles FOR EACH STATEMENT WHEN ((current_setting('memberships.load'::text, true) IS DISTINCT FROM 'on'::text)) EXECUTE FUNCTION roles_changed()

-- trigger organization_roles.organization_roles_permissions
CREATE TRIGGER organization_roles_permissions AFTER UPDATE ON organization_roles REFERENCING NEW TABLE AS new_roles FOR EACH STATEMENT EXECUTE FUNCTION organization_roles_permissions()

-- trigger organization_roles.organization_roles_truncated
CREATE TRIGGER organization_roles_truncated AFTER TRUNCATE ON organization_roles FOR EACH STATEMENT EXECUTE FUNCTION truncated()

-- trigger organization_segments.organization_segments_scope
CREATE TRIGGER organization_segments_scope BEFORE UPDATE ON organization_segments FOR EACH ROW EXECUTE FUNCTION link_scope()

-- trigger organization_segments.organization_segments_scope_insert
CREATE TRIGGER organization_segments_scope_insert BEFORE INSERT ON organization_segments FOR EACH ROW WHEN ((new.deployment_id IS NULL)) EXECUTE FUNCTION link_scope()

-- trigger organization_segments.organization_segments_truncated
CREATE TRIGGER organization_segments_truncated AFTER TRUNCATE ON organization_segments FOR EACH STATEMENT EXECUTE FUNCTION truncated()

-- trigger organization_segments.organization_segments_version
CREATE TRIGGER organization_segments_version AFTER INSERT OR DELETE OR UPDATE ON organization_segments FOR EACH ROW EXECUTE FUNCTION organization_segments_version()

-- trigger organizations.answer_changes_delete
CREATE TRIGGER answer_changes_delete AFTER DELETE ON organizations REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION answer_changes_shared('3')

-- trigger organizations.answer_changes_insert
CREATE TRIGGER answer_changes_insert AFTER INSERT ON organizations REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION answer_changes_shared('3')

-- trigger organizations.answer_changes_truncated
CREATE TRIGGER answer_changes_truncated AFTER TRUNCATE ON organizations FOR EACH STATEMENT EXECUTE FUNCTION answer_changes_truncated()

-- trigger organizations.answer_changes_update
CREATE TRIGGER answer_changes_update AFTER UPDATE ON organizations REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION answer_changes_shared('3')

-- trigger organizations.organizations_version
CREATE TRIGGER organizations_version BEFORE INSERT OR UPDATE ON organizations FOR EACH ROW EXECUTE FUNCTION fragment_version()

-- trigger segments.segments_inserted
CREATE TRIGGER segments_inserted AFTER INSERT ON segments REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT WHEN ((current_setting('memberships.load'::text, true) IS DISTINCT FROM 'on'::text)) EXECUTE FUNCTION segments_inserted()

-- trigger segments.segments_truncated
CREATE TRIGGER segments_truncated AFTER TRUNCATE ON segments FOR EACH STATEMENT EXECUTE FUNCTION truncated()

-- trigger segments.segments_version
CREATE TRIGGER segments_version AFTER DELETE OR UPDATE ON segments FOR EACH ROW EXECUTE FUNCTION segments_version()

-- trigger workspace_membership_roles.workspace_membership_roles_refs_delete
CREATE TRIGGER workspace_membership_roles_refs_delete AFTER DELETE ON workspace_membership_roles REFERENCING OLD TABLE AS old_links FOR EACH STATEMENT EXECUTE FUNCTION workspace_membership_roles_refs()

-- trigger workspace_membership_roles.workspace_membership_roles_refs_insert
CREATE TRIGGER workspace_membership_roles_refs_insert AFTER INSERT ON workspace_membership_roles REFERENCING NEW TABLE AS new_links FOR EACH STATEMENT WHEN ((current_setting('memberships.load'::text, true) IS DISTINCT FROM 'on'::text)) EXECUTE FUNCTION workspace_membership_roles_refs()

-- trigger workspace_membership_roles.workspace_membership_roles_refs_update
CREATE TRIGGER workspace_membership_roles_refs_update AFTER UPDATE ON workspace_membership_roles REFERENCING OLD TABLE AS old_links NEW TABLE AS new_links FOR EACH STATEMENT EXECUTE FUNCTION workspace_membership_roles_refs()

-- trigger workspace_membership_roles.workspace_membership_roles_scope
CREATE TRIGGER workspace_membership_roles_scope BEFORE UPDATE ON workspace_membership_roles FOR EACH ROW EXECUTE FUNCTION link_scope()

-- trigger workspace_membership_roles.workspace_membership_roles_scope_insert
CREATE TRIGGER workspace_membership_roles_scope_insert BEFORE INSERT ON workspace_membership_roles FOR EACH ROW WHEN ((new.workspace_id IS NULL)) EXECUTE FUNCTION link_scope()

-- trigger workspace_membership_roles.workspace_membership_roles_truncated
CREATE TRIGGER workspace_membership_roles_truncated AFTER TRUNCATE ON workspace_membership_roles FOR EACH STATEMENT EXECUTE FUNCTION truncated()

-- trigger workspace_memberships.answer_changes_delete
CREATE TRIGGER answer_changes_delete AFTER DELETE ON workspace_memberships REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION answer_changes_members()

-- trigger workspace_memberships.answer_changes_insert
CREATE TRIGGER answer_changes_insert AFTER INSERT ON workspace_memberships REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION answer_changes_members()

-- trigger workspace_memberships.answer_changes_truncated
CREATE TRIGGER answer_changes_truncated AFTER TRUNCATE ON workspace_memberships FOR EACH STATEMENT EXECUTE FUNCTION answer_changes_truncated()

-- trigger workspace_memberships.answer_changes_update
CREATE TRIGGER answer_changes_update AFTER UPDATE ON workspace_memberships REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION answer_changes_members()

-- trigger workspace_memberships.workspace_members_count
CREATE TRIGGER workspace_members_count AFTER DELETE OR UPDATE OF workspace_id, deleted_at ON workspace_memberships FOR EACH ROW EXECUTE FUNCTION workspace_members_count()

-- trigger workspace_memberships.workspace_members_inserted
CREATE TRIGGER workspace_members_inserted AFTER INSERT ON workspace_memberships REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION members_inserted()

-- trigger workspace_memberships.workspace_memberships_links
CREATE TRIGGER workspace_memberships_links AFTER INSERT ON workspace_memberships REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT WHEN ((current_setting('memberships.load'::text, true) IS DISTINCT FROM 'on'::text)) EXECUTE FUNCTION memberships_inserted()

-- trigger workspace_memberships.workspace_memberships_organization
CREATE TRIGGER workspace_memberships_organization BEFORE INSERT OR UPDATE OF organization_membership_id, deleted_at ON workspace_memberships FOR EACH ROW WHEN ((new.deleted_at IS NULL)) EXECUTE FUNCTION workspace_membership_organization()

-- trigger workspace_memberships.workspace_memberships_truncated
CREATE TRIGGER workspace_memberships_truncated AFTER TRUNCATE ON workspace_memberships FOR EACH STATEMENT EXECUTE FUNCTION truncated()

-- trigger workspace_roles.workspace_roles_deleted
CREATE TRIGGER workspace_roles_deleted AFTER DELETE ON workspace_roles REFERENCING OLD TABLE AS changed_roles FOR EACH STATEMENT EXECUTE FUNCTION roles_changed()

-- trigger workspace_roles.workspace_roles_inserted
CREATE TRIGGER workspace_roles_inserted AFTER INSERT ON workspace_roles REFERENCING NEW TABLE AS changed_roles FOR EACH STATEMENT WHEN ((current_setting('memberships.load'::text, true) IS DISTINCT FROM 'on'::text)) EXECUTE FUNCTION roles_changed()

-- trigger workspace_roles.workspace_roles_refs
CREATE TRIGGER workspace_roles_refs AFTER UPDATE ON workspace_roles REFERENCING NEW TABLE AS new_roles FOR EACH STATEMENT EXECUTE FUNCTION workspace_roles_refs()

-- trigger workspace_roles.workspace_roles_truncated
CREATE TRIGGER workspace_roles_truncated AFTER TRUNCATE ON workspace_roles FOR EACH STATEMENT EXECUTE FUNCTION truncated()

-- trigger workspace_roles.workspace_roles_version
CREATE TRIGGER workspace_roles_version BEFORE INSERT OR UPDATE ON workspace_roles FOR EACH ROW EXECUTE FUNCTION fragment_version()

-- trigger workspace_segments.workspace_segments_scope
CREATE TRIGGER workspace_segments_scope BEFORE UPDATE ON workspace_segments FOR EACH ROW EXECUTE FUNCTION link_scope()

-- trigger workspace_segments.workspace_segments_scope_insert
CREATE TRIGGER workspace_segments_scope_insert BEFORE INSERT ON workspace_segments FOR EACH ROW WHEN ((new.deployment_id IS NULL)) EXECUTE FUNCTION link_scope()

-- trigger workspace_segments.workspace_segments_truncated
CREATE TRIGGER workspace_segments_truncated AFTER TRUNCATE ON workspace_segments FOR EACH STATEMENT EXECUTE FUNCTION truncated()

-- trigger workspace_segments.workspace_segments_version
CREATE TRIGGER workspace_segments_version AFTER INSERT OR DELETE OR UPDATE ON workspace_segments FOR EACH ROW EXECUTE FUNCTION workspace_segments_version()

-- trigger workspaces.answer_changes_delete
CREATE TRIGGER answer_changes_delete AFTER DELETE ON workspaces REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION answer_changes_shared('2')

-- trigger workspaces.answer_changes_insert
CREATE TRIGGER answer_changes_insert AFTER INSERT ON workspaces REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION answer_changes_shared('2')

-- trigger workspaces.answer_changes_truncated
CREATE TRIGGER answer_changes_truncated AFTER TRUNCATE ON workspaces FOR EACH STATEMENT EXECUTE FUNCTION answer_changes_truncated()

-- trigger workspaces.answer_changes_update
CREATE TRIGGER answer_changes_update AFTER UPDATE ON workspaces REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION answer_changes_shared('2')

-- trigger workspaces.workspaces_version
CREATE TRIGGER workspaces_version BEFORE INSERT OR UPDATE ON workspaces FOR EACH ROW EXECUTE FUNCTION fragment_version()
