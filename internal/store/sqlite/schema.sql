-- index organization_memberships_live
CREATE UNIQUE INDEX organization_memberships_live
    ON organization_memberships (organization_id, user_id) WHERE deleted_at IS NULL;

-- index rotating_tokens_session
CREATE INDEX rotating_tokens_session ON rotating_tokens (session_id);

-- index sign_ins_session
CREATE INDEX sign_ins_session ON sign_ins (session_id);

-- index user_authenticators_user
CREATE INDEX user_authenticators_user ON user_authenticators (user_id) WHERE deleted_at IS NULL;

-- index workspace_memberships_live
CREATE UNIQUE INDEX workspace_memberships_live
    ON workspace_memberships (workspace_id, user_id) WHERE deleted_at IS NULL;

-- index workspace_memberships_user_rows
CREATE INDEX workspace_memberships_user_rows ON workspace_memberships (
    user_id, created_at DESC, id DESC, organization_membership_live, workspace_id, organization_id,
    organization_membership_id, updated_at, role_refs, organization_permissions, public_metadata, deleted_at)
    WHERE deleted_at IS NULL;

-- table answer_changes
CREATE TABLE answer_changes (
    seq  INTEGER NOT NULL,
    kind INTEGER NOT NULL,
    id   INTEGER NOT NULL,
    PRIMARY KEY (seq, kind, id)
) WITHOUT ROWID;

-- table deployment_hosts
CREATE TABLE deployment_hosts (
    host          TEXT    PRIMARY KEY CONSTRAINT host CHECK (host <> '' AND host = lower(host)),
    deployment_id INTEGER NOT NULL REFERENCES deployments (id)
) STRICT, WITHOUT ROWID;

-- table deployment_key_pairs
CREATE TABLE deployment_key_pairs (
    deployment_id   INTEGER PRIMARY KEY REFERENCES deployments (id),
    private_key_pem TEXT    NOT NULL CONSTRAINT private_key_pem CHECK (private_key_pem <> ''),
    public_key_pem  TEXT    NOT NULL CONSTRAINT public_key_pem CHECK (public_key_pem <> ''),
    created_at      INTEGER NOT NULL
) STRICT;

-- table deployments
CREATE TABLE deployments (
    id                                 INTEGER PRIMARY KEY,
    -- The primary host, the issuer of the deployment's tokens; it is also one
    -- of the deployment_hosts.
    host                               TEXT    NOT NULL CONSTRAINT host CHECK (host <> '' AND host = lower(host)),
    mode                               TEXT    NOT NULL CONSTRAINT mode CHECK (mode IN ('production', 'staging')),
    ip_allowlist_per_workspace_enabled INTEGER NOT NULL CHECK (ip_allowlist_per_workspace_enabled IN (0, 1)),
    enforce_mfa_per_workspace_enabled  INTEGER NOT NULL CHECK (enforce_mfa_per_workspace_enabled IN (0, 1)),
    -- Browser origins granted CORS with credentials, a JSON array of strings.
    allowed_origins                    TEXT    NOT NULL DEFAULT '[]' CONSTRAINT allowed_origins CHECK (json_valid(allowed_origins) AND json_type(allowed_origins) = 'array'),
    created_at                         INTEGER NOT NULL,
    updated_at                         INTEGER NOT NULL,
    deleted_at                         INTEGER
, cookie_domain TEXT NOT NULL DEFAULT '') STRICT;

-- table fragment_clock
CREATE TABLE fragment_clock (n INTEGER NOT NULL);

-- table id_nodes
CREATE TABLE id_nodes (
    node     INTEGER PRIMARY KEY CHECK (node BETWEEN 0 AND 1023),
    holder   TEXT    NOT NULL,
    until_ms INTEGER NOT NULL
) STRICT;

-- table organization_membership_roles
CREATE TABLE organization_membership_roles (
    organization_membership_id INTEGER NOT NULL REFERENCES organization_memberships (id),
    organization_role_id       INTEGER NOT NULL REFERENCES organization_roles (id),
    PRIMARY KEY (organization_membership_id, organization_role_id)
) STRICT, WITHOUT ROWID;

-- table organization_memberships
CREATE TABLE organization_memberships (
    id              INTEGER PRIMARY KEY,
    organization_id INTEGER NOT NULL REFERENCES organizations (id),
    user_id         INTEGER NOT NULL REFERENCES users (id),
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    deleted_at      INTEGER, permissions TEXT,
    UNIQUE (id, organization_id, user_id)
) STRICT;

-- table organization_recounts
CREATE TABLE organization_recounts (organization_id INTEGER NOT NULL) STRICT;

-- table organization_roles
CREATE TABLE organization_roles (
    id              INTEGER PRIMARY KEY,
    deployment_id   INTEGER NOT NULL,
    organization_id INTEGER NOT NULL,
    name            TEXT    NOT NULL,
    permissions     TEXT    NOT NULL CONSTRAINT permissions CHECK (json_valid(permissions) AND json_type(permissions) = 'array'),
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    deleted_at      INTEGER,
    FOREIGN KEY (organization_id, deployment_id) REFERENCES organizations (id, deployment_id)
) STRICT;

-- table organization_segments
CREATE TABLE organization_segments (
    organization_id INTEGER NOT NULL REFERENCES organizations (id),
    segment_id      INTEGER NOT NULL REFERENCES segments (id),
    PRIMARY KEY (organization_id, segment_id)
) STRICT, WITHOUT ROWID;

-- table organizations
CREATE TABLE organizations (
    id                         INTEGER PRIMARY KEY,
    deployment_id              INTEGER NOT NULL REFERENCES deployments (id),
    name                       TEXT    NOT NULL,
    image_url                  TEXT    NOT NULL,
    description                TEXT    NOT NULL,
    public_metadata            TEXT    NOT NULL CONSTRAINT public_metadata CHECK (json_valid(public_metadata) AND json_type(public_metadata) = 'object'),
    private_metadata           TEXT    NOT NULL CONSTRAINT private_metadata CHECK (json_valid(private_metadata) AND json_type(private_metadata) = 'object'),
    enforce_mfa                INTEGER NOT NULL CHECK (enforce_mfa IN (0, 1)),
    enable_ip_restriction      INTEGER NOT NULL CHECK (enable_ip_restriction IN (0, 1)),
    whitelisted_ips            TEXT    NOT NULL CONSTRAINT whitelisted_ips CHECK (json_valid(whitelisted_ips) AND json_type(whitelisted_ips) = 'array'),
    -- Must be a workspace of this organization.
    auto_assigned_workspace_id INTEGER,
    created_at                 INTEGER NOT NULL,
    updated_at                 INTEGER NOT NULL,
    deleted_at                 INTEGER, member_count INTEGER NOT NULL DEFAULT 0, version INTEGER NOT NULL DEFAULT 0,
    UNIQUE (id, deployment_id),
    FOREIGN KEY (auto_assigned_workspace_id, id) REFERENCES workspaces (id, organization_id)
) STRICT;

-- table rotating_tokens
CREATE TABLE rotating_tokens (
    id            INTEGER PRIMARY KEY,
    session_id    INTEGER NOT NULL REFERENCES sessions (id),
    valid_until   INTEGER NOT NULL,
    -- The token that replaced this one, once it has been rotated, and when.
    next_token_id INTEGER REFERENCES rotating_tokens (id),
    rotated_at    INTEGER,
    created_at    INTEGER NOT NULL,
    CHECK ((next_token_id IS NULL) = (rotated_at IS NULL))
) STRICT;

-- table schema_derived
CREATE TABLE schema_derived (checksum TEXT NOT NULL) STRICT;

-- table schema_migrations
CREATE TABLE schema_migrations (
		version    TEXT    PRIMARY KEY,
		applied_at INTEGER NOT NULL
	) STRICT;

-- table segments
CREATE TABLE segments (
    id            INTEGER PRIMARY KEY,
    deployment_id INTEGER NOT NULL REFERENCES deployments (id),
    name          TEXT    NOT NULL,
    type          TEXT    NOT NULL CONSTRAINT type CHECK (type IN ('user', 'organization', 'workspace')),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    deleted_at    INTEGER
) STRICT;

-- table sessions
CREATE TABLE sessions (
    id                INTEGER PRIMARY KEY,
    deployment_id     INTEGER NOT NULL REFERENCES deployments (id),
    -- Set after the sign-in is written (sign_ins points back here).
    active_sign_in_id INTEGER REFERENCES sign_ins (id),
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    deleted_at        INTEGER
, pending_token_id INTEGER REFERENCES rotating_tokens (id)) STRICT;

-- table sign_ins
CREATE TABLE sign_ins (
    id            INTEGER PRIMARY KEY,
    session_id    INTEGER NOT NULL REFERENCES sessions (id),
    user_id       INTEGER NOT NULL REFERENCES users (id),
    expires_at    INTEGER NOT NULL,
    signed_out_at INTEGER,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;

-- table user_authenticators
CREATE TABLE user_authenticators (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    type       TEXT    NOT NULL CONSTRAINT type CHECK (type <> ''),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    deleted_at INTEGER
) STRICT;

-- table users
CREATE TABLE users (
    id                     INTEGER PRIMARY KEY,
    deployment_id          INTEGER NOT NULL REFERENCES deployments (id),
    -- NOCASE makes the unique constraint and FindUser case-insensitive (ASCII).
    email                  TEXT    NOT NULL COLLATE NOCASE CONSTRAINT email CHECK (email <> ''),
    first_name             TEXT    NOT NULL,
    last_name              TEXT    NOT NULL,
    backup_codes_generated INTEGER NOT NULL CHECK (backup_codes_generated IN (0, 1)),
    created_at             INTEGER NOT NULL,
    updated_at             INTEGER NOT NULL,
    deleted_at             INTEGER,
    UNIQUE (deployment_id, email)
) STRICT;

-- table workspace_membership_roles
CREATE TABLE workspace_membership_roles (
    workspace_membership_id INTEGER NOT NULL REFERENCES workspace_memberships (id),
    workspace_role_id       INTEGER NOT NULL REFERENCES workspace_roles (id),
    PRIMARY KEY (workspace_membership_id, workspace_role_id)
) STRICT, WITHOUT ROWID;

-- table workspace_memberships
CREATE TABLE workspace_memberships (
    id                         INTEGER PRIMARY KEY,
    workspace_id               INTEGER NOT NULL,
    organization_id            INTEGER NOT NULL,
    organization_membership_id INTEGER NOT NULL,
    user_id                    INTEGER NOT NULL REFERENCES users (id),
    public_metadata            TEXT    NOT NULL CONSTRAINT public_metadata CHECK (json_valid(public_metadata) AND json_type(public_metadata) = 'object'),
    created_at                 INTEGER NOT NULL,
    updated_at                 INTEGER NOT NULL,
    deleted_at                 INTEGER, role_refs TEXT, organization_membership_live INTEGER NOT NULL DEFAULT 1
    CHECK (organization_membership_live IN (0, 1)), organization_permissions TEXT,
    -- The workspace is in the organization, and the organization membership
    -- is this user's in that organization.
    FOREIGN KEY (workspace_id, organization_id) REFERENCES workspaces (id, organization_id),
    FOREIGN KEY (organization_membership_id, organization_id, user_id)
        REFERENCES organization_memberships (id, organization_id, user_id)
) STRICT;

-- table workspace_recounts
CREATE TABLE workspace_recounts (workspace_id INTEGER NOT NULL) STRICT;

-- table workspace_roles
CREATE TABLE workspace_roles (
    id            INTEGER PRIMARY KEY,
    deployment_id INTEGER NOT NULL REFERENCES deployments (id),
    workspace_id  INTEGER NOT NULL REFERENCES workspaces (id),
    name          TEXT    NOT NULL,
    permissions   TEXT    NOT NULL CONSTRAINT permissions CHECK (json_valid(permissions) AND json_type(permissions) = 'array'),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    deleted_at    INTEGER
, version INTEGER NOT NULL DEFAULT 0) STRICT;

-- table workspace_segments
CREATE TABLE workspace_segments (
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id),
    segment_id   INTEGER NOT NULL REFERENCES segments (id),
    PRIMARY KEY (workspace_id, segment_id)
) STRICT, WITHOUT ROWID;

-- table workspaces
CREATE TABLE workspaces (
    id                    INTEGER PRIMARY KEY,
    organization_id       INTEGER NOT NULL,
    deployment_id         INTEGER NOT NULL,
    name                  TEXT    NOT NULL,
    image_url             TEXT    NOT NULL,
    description           TEXT    NOT NULL,
    public_metadata       TEXT    NOT NULL CONSTRAINT public_metadata CHECK (json_valid(public_metadata) AND json_type(public_metadata) = 'object'),
    private_metadata      TEXT    NOT NULL CONSTRAINT private_metadata CHECK (json_valid(private_metadata) AND json_type(private_metadata) = 'object'),
    enforce_2fa           INTEGER NOT NULL CHECK (enforce_2fa IN (0, 1)),
    enable_ip_restriction INTEGER NOT NULL CHECK (enable_ip_restriction IN (0, 1)),
    whitelisted_ips       TEXT    NOT NULL CONSTRAINT whitelisted_ips CHECK (json_valid(whitelisted_ips) AND json_type(whitelisted_ips) = 'array'),
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL,
    deleted_at            INTEGER, member_count INTEGER NOT NULL DEFAULT 0, version INTEGER NOT NULL DEFAULT 0,
    UNIQUE (id, organization_id),
    FOREIGN KEY (organization_id, deployment_id) REFERENCES organizations (id, deployment_id)
) STRICT;

-- trigger answer_changes_organizations_delete
CREATE TRIGGER answer_changes_organizations_delete AFTER DELETE ON organizations BEGIN
    UPDATE fragment_clock SET n = max(n + 1, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
    INSERT OR IGNORE INTO answer_changes SELECT n, 3, OLD.id FROM fragment_clock;
    DELETE FROM answer_changes WHERE seq < (SELECT n FROM fragment_clock) - 600000000;
END;

-- trigger answer_changes_organizations_insert
CREATE TRIGGER answer_changes_organizations_insert AFTER INSERT ON organizations BEGIN
    UPDATE fragment_clock SET n = max(n + 1, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
    INSERT OR IGNORE INTO answer_changes SELECT n, 4, NEW.deployment_id FROM fragment_clock;
    DELETE FROM answer_changes WHERE seq < (SELECT n FROM fragment_clock) - 600000000;
END;

-- trigger answer_changes_organizations_update
CREATE TRIGGER answer_changes_organizations_update AFTER UPDATE ON organizations BEGIN
    UPDATE fragment_clock SET n = max(n + 1, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
    INSERT OR IGNORE INTO answer_changes SELECT n, 3, NEW.id FROM fragment_clock WHERE NEW.id = OLD.id AND NEW.deployment_id = OLD.deployment_id AND NEW.deleted_at IS OLD.deleted_at;
    INSERT OR IGNORE INTO answer_changes SELECT n, 4, OLD.deployment_id FROM fragment_clock WHERE NOT (NEW.id = OLD.id AND NEW.deployment_id = OLD.deployment_id AND NEW.deleted_at IS OLD.deleted_at);
    INSERT OR IGNORE INTO answer_changes SELECT n, 4, NEW.deployment_id FROM fragment_clock WHERE NOT (NEW.id = OLD.id AND NEW.deployment_id = OLD.deployment_id AND NEW.deleted_at IS OLD.deleted_at);
    DELETE FROM answer_changes WHERE seq < (SELECT n FROM fragment_clock) - 600000000;
END;

-- trigger answer_changes_workspace_memberships_delete
CREATE TRIGGER answer_changes_workspace_memberships_delete AFTER DELETE ON workspace_memberships BEGIN
    UPDATE fragment_clock SET n = max(n + 1, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
    INSERT OR IGNORE INTO answer_changes SELECT n, 1, OLD.user_id FROM fragment_clock;
    DELETE FROM answer_changes WHERE seq < (SELECT n FROM fragment_clock) - 600000000;
END;

-- trigger answer_changes_workspace_memberships_insert
CREATE TRIGGER answer_changes_workspace_memberships_insert AFTER INSERT ON workspace_memberships BEGIN
    UPDATE fragment_clock SET n = max(n + 1, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
    INSERT OR IGNORE INTO answer_changes SELECT n, 1, NEW.user_id FROM fragment_clock;
    DELETE FROM answer_changes WHERE seq < (SELECT n FROM fragment_clock) - 600000000;
END;

-- trigger answer_changes_workspace_memberships_replacing
CREATE TRIGGER answer_changes_workspace_memberships_replacing BEFORE INSERT ON workspace_memberships
WHEN EXISTS (SELECT 1 FROM workspace_memberships WHERE id = NEW.id AND user_id <> NEW.user_id) BEGIN
    UPDATE fragment_clock SET n = max(n + 1, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
    INSERT OR IGNORE INTO answer_changes SELECT n, 1, (SELECT user_id FROM workspace_memberships WHERE id = NEW.id) FROM fragment_clock;
    DELETE FROM answer_changes WHERE seq < (SELECT n FROM fragment_clock) - 600000000;
END;

-- trigger answer_changes_workspace_memberships_update
CREATE TRIGGER answer_changes_workspace_memberships_update AFTER UPDATE ON workspace_memberships BEGIN
    UPDATE fragment_clock SET n = max(n + 1, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
    INSERT OR IGNORE INTO answer_changes SELECT n, 1, OLD.user_id FROM fragment_clock;
    INSERT OR IGNORE INTO answer_changes SELECT n, 1, NEW.user_id FROM fragment_clock WHERE NEW.user_id <> OLD.user_id;
    DELETE FROM answer_changes WHERE seq < (SELECT n FROM fragment_clock) - 600000000;
END;

-- trigger answer_changes_workspaces_delete
CREATE TRIGGER answer_changes_workspaces_delete AFTER DELETE ON workspaces BEGIN
    UPDATE fragment_clock SET n = max(n + 1, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
    INSERT OR IGNORE INTO answer_changes SELECT n, 2, OLD.id FROM fragment_clock;
    DELETE FROM answer_changes WHERE seq < (SELECT n FROM fragment_clock) - 600000000;
END;

-- trigger answer_changes_workspaces_insert
CREATE TRIGGER answer_changes_workspaces_insert AFTER INSERT ON workspaces BEGIN
    UPDATE fragment_clock SET n = max(n + 1, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
    INSERT OR IGNORE INTO answer_changes SELECT n, 4, NEW.deployment_id FROM fragment_clock;
    DELETE FROM answer_changes WHERE seq < (SELECT n FROM fragment_clock) - 600000000;
END;

-- trigger answer_changes_workspaces_update
CREATE TRIGGER answer_changes_workspaces_update AFTER UPDATE ON workspaces BEGIN
    UPDATE fragment_clock SET n = max(n + 1, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
    INSERT OR IGNORE INTO answer_changes SELECT n, 2, NEW.id FROM fragment_clock WHERE NEW.id = OLD.id AND NEW.deployment_id = OLD.deployment_id AND NEW.deleted_at IS OLD.deleted_at;
    INSERT OR IGNORE INTO answer_changes SELECT n, 4, OLD.deployment_id FROM fragment_clock WHERE NOT (NEW.id = OLD.id AND NEW.deployment_id = OLD.deployment_id AND NEW.deleted_at IS OLD.deleted_at);
    INSERT OR IGNORE INTO answer_changes SELECT n, 4, NEW.deployment_id FROM fragment_clock WHERE NOT (NEW.id = OLD.id AND NEW.deployment_id = OLD.deployment_id AND NEW.deleted_at IS OLD.deleted_at);
    DELETE FROM answer_changes WHERE seq < (SELECT n FROM fragment_clock) - 600000000;
END;

-- trigger organization_members_delete
CREATE TRIGGER organization_members_delete AFTER DELETE ON organization_memberships
WHEN OLD.deleted_at IS NULL BEGIN
    UPDATE organizations SET member_count = member_count - 1 WHERE id = OLD.organization_id;
END;

-- trigger organization_members_insert
CREATE TRIGGER organization_members_insert AFTER INSERT ON organization_memberships
WHEN NEW.deleted_at IS NULL
 AND NOT EXISTS (SELECT 1 FROM organization_recounts WHERE organization_id = NEW.organization_id) BEGIN
    UPDATE organizations SET member_count = member_count + 1 WHERE id = NEW.organization_id;
END;

-- trigger organization_members_recount
CREATE TRIGGER organization_members_recount AFTER INSERT ON organization_memberships
WHEN EXISTS (SELECT 1 FROM organization_recounts) BEGIN
    UPDATE organizations SET member_count = (SELECT count(*) FROM organization_memberships c
                                              WHERE c.organization_id = organizations.id AND c.deleted_at IS NULL)
     WHERE id IN (SELECT organization_id FROM organization_recounts);
END;

-- trigger organization_members_replacing
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

-- trigger organization_members_update
CREATE TRIGGER organization_members_update AFTER UPDATE OF organization_id, deleted_at ON organization_memberships BEGIN
    UPDATE organizations SET member_count = member_count - 1 WHERE id = OLD.organization_id AND OLD.deleted_at IS NULL;
    UPDATE organizations SET member_count = member_count + 1 WHERE id = NEW.organization_id AND NEW.deleted_at IS NULL;
END;

-- trigger organization_membership_roles_delete
CREATE TRIGGER organization_membership_roles_delete AFTER DELETE ON organization_membership_roles BEGIN
    UPDATE organization_memberships SET permissions = NULL WHERE id = OLD.organization_membership_id;
END;

-- trigger organization_membership_roles_insert
CREATE TRIGGER organization_membership_roles_insert AFTER INSERT ON organization_membership_roles BEGIN
    UPDATE organization_memberships SET permissions = NULL WHERE id = NEW.organization_membership_id;
END;

-- trigger organization_membership_roles_update
CREATE TRIGGER organization_membership_roles_update AFTER UPDATE ON organization_membership_roles BEGIN
    UPDATE organization_memberships SET permissions = NULL WHERE id IN (OLD.organization_membership_id, NEW.organization_membership_id);
END;

-- trigger organization_memberships_deleted_on_rows
CREATE TRIGGER organization_memberships_deleted_on_rows AFTER DELETE ON organization_memberships BEGIN
    UPDATE workspace_memberships SET (organization_membership_live, organization_permissions) = (0, NULL)
     WHERE user_id = OLD.user_id AND deleted_at IS NULL AND organization_membership_id = OLD.id;
END;

-- trigger organization_memberships_inserted_on_rows
CREATE TRIGGER organization_memberships_inserted_on_rows AFTER INSERT ON organization_memberships BEGIN
    UPDATE workspace_memberships SET (organization_membership_live, organization_permissions) = (
        SELECT om.deleted_at IS NULL, om.permissions FROM organization_memberships om WHERE om.id = NEW.id)
     WHERE user_id = NEW.user_id AND deleted_at IS NULL AND organization_membership_id = NEW.id;
END;

-- trigger organization_memberships_on_rows
CREATE TRIGGER organization_memberships_on_rows AFTER UPDATE OF permissions, deleted_at ON organization_memberships BEGIN
    UPDATE workspace_memberships SET (organization_membership_live, organization_permissions) = (
        SELECT om.deleted_at IS NULL, om.permissions FROM organization_memberships om WHERE om.id = NEW.id)
     WHERE user_id = NEW.user_id AND deleted_at IS NULL AND organization_membership_id = NEW.id;
END;

-- trigger organization_memberships_permissions
CREATE TRIGGER organization_memberships_permissions AFTER UPDATE OF permissions ON organization_memberships BEGIN
    UPDATE organization_memberships SET permissions = (
        SELECT json_group_array(DISTINCT p.value)
          FROM organization_membership_roles orl
          JOIN organization_roles r ON r.id = orl.organization_role_id, json_each(r.permissions) p
         WHERE orl.organization_membership_id = NEW.id AND r.deleted_at IS NULL)
     WHERE id = NEW.id;
END;

-- trigger organization_memberships_replaced
CREATE TRIGGER organization_memberships_replaced AFTER INSERT ON organization_memberships
WHEN NEW.permissions IS NOT NULL
  OR EXISTS (SELECT 1 FROM organization_membership_roles WHERE organization_membership_id = NEW.id) BEGIN
    SELECT RAISE(ABORT, 'tenant: organization role of another organization')
     WHERE EXISTS (SELECT 1 FROM organization_membership_roles l JOIN organization_roles r ON r.id = l.organization_role_id
                    WHERE l.organization_membership_id = NEW.id AND r.organization_id <> NEW.organization_id);
    UPDATE organization_memberships SET permissions = NULL WHERE id = NEW.id;
END;

-- trigger organization_roles_deleted
CREATE TRIGGER organization_roles_deleted AFTER DELETE ON organization_roles BEGIN
    UPDATE organization_memberships SET permissions = NULL
     WHERE id IN (SELECT organization_membership_id FROM organization_membership_roles WHERE organization_role_id = OLD.id);
END;

-- trigger organization_roles_permissions
CREATE TRIGGER organization_roles_permissions AFTER UPDATE ON organization_roles BEGIN
    UPDATE organization_memberships SET permissions = NULL
     WHERE id IN (SELECT organization_membership_id FROM organization_membership_roles WHERE organization_role_id = NEW.id);
END;

-- trigger organization_roles_replaced
CREATE TRIGGER organization_roles_replaced AFTER INSERT ON organization_roles
WHEN EXISTS (SELECT 1 FROM organization_membership_roles WHERE organization_role_id = NEW.id) BEGIN
    SELECT RAISE(ABORT, 'tenant: organization role of another organization')
     WHERE EXISTS (SELECT 1 FROM organization_membership_roles l
                     JOIN organization_memberships m ON m.id = l.organization_membership_id
                    WHERE l.organization_role_id = NEW.id AND m.organization_id <> NEW.organization_id);
    UPDATE organization_memberships SET permissions = NULL
     WHERE id IN (SELECT organization_membership_id FROM organization_membership_roles WHERE organization_role_id = NEW.id);
END;

-- trigger organization_segments_version_delete
CREATE TRIGGER organization_segments_version_delete AFTER DELETE ON organization_segments BEGIN
    UPDATE organizations SET version = version WHERE id = OLD.organization_id;
END;

-- trigger organization_segments_version_insert
CREATE TRIGGER organization_segments_version_insert AFTER INSERT ON organization_segments BEGIN
    UPDATE organizations SET version = version WHERE id = NEW.organization_id;
END;

-- trigger organization_segments_version_update
CREATE TRIGGER organization_segments_version_update AFTER UPDATE ON organization_segments BEGIN
    UPDATE organizations SET version = version WHERE id IN (OLD.organization_id, NEW.organization_id);
END;

-- trigger organizations_replaced
CREATE TRIGGER organizations_replaced AFTER INSERT ON organizations
WHEN NEW.member_count <> (SELECT count(*) FROM organization_memberships c
                           WHERE c.organization_id = NEW.id AND c.deleted_at IS NULL) BEGIN
    UPDATE organizations SET member_count = (SELECT count(*) FROM organization_memberships c
                                              WHERE c.organization_id = NEW.id AND c.deleted_at IS NULL)
     WHERE id = NEW.id;
END;

-- trigger organizations_version_insert
CREATE TRIGGER organizations_version_insert AFTER INSERT ON organizations BEGIN
    UPDATE fragment_clock SET n = max(n + 1, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
    UPDATE organizations SET version = (SELECT n FROM fragment_clock) WHERE id = NEW.id;
END;

-- trigger organizations_version_update
CREATE TRIGGER organizations_version_update AFTER UPDATE ON organizations BEGIN
    UPDATE fragment_clock SET n = max(n + 1, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
    UPDATE organizations SET version = (SELECT n FROM fragment_clock) WHERE id = NEW.id;
END;

-- trigger segments_replaced
CREATE TRIGGER segments_replaced AFTER INSERT ON segments
WHEN EXISTS (SELECT 1 FROM workspace_segments WHERE segment_id = NEW.id)
  OR EXISTS (SELECT 1 FROM organization_segments WHERE segment_id = NEW.id) BEGIN
    UPDATE workspaces SET version = version
     WHERE id IN (SELECT workspace_id FROM workspace_segments WHERE segment_id = NEW.id);
    UPDATE organizations SET version = version
     WHERE id IN (SELECT organization_id FROM organization_segments WHERE segment_id = NEW.id);
END;

-- trigger segments_version_delete
CREATE TRIGGER segments_version_delete AFTER DELETE ON segments BEGIN
    UPDATE workspaces SET version = version
     WHERE id IN (SELECT workspace_id FROM workspace_segments WHERE segment_id = OLD.id);
    UPDATE organizations SET version = version
     WHERE id IN (SELECT organization_id FROM organization_segments WHERE segment_id = OLD.id);
END;

-- trigger segments_version_update
CREATE TRIGGER segments_version_update AFTER UPDATE ON segments BEGIN
    UPDATE workspaces SET version = version
     WHERE id IN (SELECT workspace_id FROM workspace_segments WHERE segment_id IN (OLD.id, NEW.id));
    UPDATE organizations SET version = version
     WHERE id IN (SELECT organization_id FROM organization_segments WHERE segment_id IN (OLD.id, NEW.id));
END;

-- trigger tenant_organization_membership_roles_insert
CREATE TRIGGER tenant_organization_membership_roles_insert BEFORE INSERT ON organization_membership_roles
WHEN (SELECT organization_id FROM organization_memberships WHERE id = NEW.organization_membership_id)
  <> (SELECT organization_id FROM organization_roles WHERE id = NEW.organization_role_id)
BEGIN SELECT RAISE(ABORT, 'tenant: organization role of another organization'); END;

-- trigger tenant_organization_membership_roles_update
CREATE TRIGGER tenant_organization_membership_roles_update BEFORE UPDATE ON organization_membership_roles
BEGIN SELECT RAISE(ABORT, 'links are inserted or deleted, not updated'); END;

-- trigger tenant_organization_memberships_move
CREATE TRIGGER tenant_organization_memberships_move BEFORE UPDATE OF organization_id ON organization_memberships
WHEN EXISTS (SELECT 1 FROM organization_membership_roles l JOIN organization_roles r ON r.id = l.organization_role_id
             WHERE l.organization_membership_id = NEW.id AND r.organization_id <> NEW.organization_id)
BEGIN SELECT RAISE(ABORT, 'tenant: organization role of another organization'); END;

-- trigger tenant_organization_roles_move
CREATE TRIGGER tenant_organization_roles_move BEFORE UPDATE OF organization_id ON organization_roles
WHEN EXISTS (SELECT 1 FROM organization_membership_roles l JOIN organization_memberships m ON m.id = l.organization_membership_id
             WHERE l.organization_role_id = NEW.id AND m.organization_id <> NEW.organization_id)
BEGIN SELECT RAISE(ABORT, 'tenant: organization role of another organization'); END;

-- trigger tenant_organization_segments_insert
CREATE TRIGGER tenant_organization_segments_insert BEFORE INSERT ON organization_segments
WHEN (SELECT deployment_id FROM organizations WHERE id = NEW.organization_id)
  <> (SELECT deployment_id FROM segments WHERE id = NEW.segment_id)
BEGIN SELECT RAISE(ABORT, 'tenant: segment of another deployment'); END;

-- trigger tenant_organization_segments_update
CREATE TRIGGER tenant_organization_segments_update BEFORE UPDATE ON organization_segments
BEGIN SELECT RAISE(ABORT, 'links are inserted or deleted, not updated'); END;

-- trigger tenant_organizations_move
CREATE TRIGGER tenant_organizations_move BEFORE UPDATE OF deployment_id ON organizations
WHEN EXISTS (SELECT 1 FROM organization_segments l JOIN segments s ON s.id = l.segment_id
             WHERE l.organization_id = NEW.id AND s.deployment_id <> NEW.deployment_id)
BEGIN SELECT RAISE(ABORT, 'tenant: segment of another deployment'); END;

-- trigger tenant_segments_move
CREATE TRIGGER tenant_segments_move BEFORE UPDATE OF deployment_id ON segments
WHEN EXISTS (SELECT 1 FROM organization_segments l JOIN organizations o ON o.id = l.organization_id
             WHERE l.segment_id = NEW.id AND o.deployment_id <> NEW.deployment_id)
  OR EXISTS (SELECT 1 FROM workspace_segments l JOIN workspaces w ON w.id = l.workspace_id
             WHERE l.segment_id = NEW.id AND w.deployment_id <> NEW.deployment_id)
BEGIN SELECT RAISE(ABORT, 'tenant: segment of another deployment'); END;

-- trigger tenant_workspace_membership_roles_insert
CREATE TRIGGER tenant_workspace_membership_roles_insert BEFORE INSERT ON workspace_membership_roles
WHEN (SELECT workspace_id FROM workspace_memberships WHERE id = NEW.workspace_membership_id)
  <> (SELECT workspace_id FROM workspace_roles WHERE id = NEW.workspace_role_id)
BEGIN SELECT RAISE(ABORT, 'tenant: workspace role of another workspace'); END;

-- trigger tenant_workspace_membership_roles_update
CREATE TRIGGER tenant_workspace_membership_roles_update BEFORE UPDATE ON workspace_membership_roles
BEGIN SELECT RAISE(ABORT, 'links are inserted or deleted, not updated'); END;

-- trigger tenant_workspace_memberships_move
CREATE TRIGGER tenant_workspace_memberships_move BEFORE UPDATE OF workspace_id ON workspace_memberships
WHEN EXISTS (SELECT 1 FROM workspace_membership_roles l JOIN workspace_roles r ON r.id = l.workspace_role_id
             WHERE l.workspace_membership_id = NEW.id AND r.workspace_id <> NEW.workspace_id)
BEGIN SELECT RAISE(ABORT, 'tenant: workspace role of another workspace'); END;

-- trigger tenant_workspace_roles_insert
CREATE TRIGGER tenant_workspace_roles_insert BEFORE INSERT ON workspace_roles
WHEN (SELECT deployment_id FROM workspaces WHERE id = NEW.workspace_id) <> NEW.deployment_id
BEGIN SELECT RAISE(ABORT, 'tenant: workspace role of another deployment'); END;

-- trigger tenant_workspace_roles_move
CREATE TRIGGER tenant_workspace_roles_move BEFORE UPDATE OF workspace_id ON workspace_roles
WHEN EXISTS (SELECT 1 FROM workspace_membership_roles l JOIN workspace_memberships m ON m.id = l.workspace_membership_id
             WHERE l.workspace_role_id = NEW.id AND m.workspace_id <> NEW.workspace_id)
BEGIN SELECT RAISE(ABORT, 'tenant: workspace role of another workspace'); END;

-- trigger tenant_workspace_roles_update
CREATE TRIGGER tenant_workspace_roles_update BEFORE UPDATE OF workspace_id, deployment_id ON workspace_roles
WHEN (SELECT deployment_id FROM workspaces WHERE id = NEW.workspace_id) <> NEW.deployment_id
BEGIN SELECT RAISE(ABORT, 'tenant: workspace role of another deployment'); END;

-- trigger tenant_workspace_segments_insert
CREATE TRIGGER tenant_workspace_segments_insert BEFORE INSERT ON workspace_segments
WHEN (SELECT deployment_id FROM workspaces WHERE id = NEW.workspace_id)
  <> (SELECT deployment_id FROM segments WHERE id = NEW.segment_id)
BEGIN SELECT RAISE(ABORT, 'tenant: segment of another deployment'); END;

-- trigger tenant_workspace_segments_update
CREATE TRIGGER tenant_workspace_segments_update BEFORE UPDATE ON workspace_segments
BEGIN SELECT RAISE(ABORT, 'links are inserted or deleted, not updated'); END;

-- trigger tenant_workspaces_move
CREATE TRIGGER tenant_workspaces_move BEFORE UPDATE OF deployment_id ON workspaces
WHEN EXISTS (SELECT 1 FROM workspace_segments l JOIN segments s ON s.id = l.segment_id
             WHERE l.workspace_id = NEW.id AND s.deployment_id <> NEW.deployment_id)
  OR EXISTS (SELECT 1 FROM workspace_roles r WHERE r.workspace_id = NEW.id AND r.deployment_id <> NEW.deployment_id)
BEGIN SELECT RAISE(ABORT, 'tenant: segment or role of another deployment'); END;

-- trigger workspace_members_delete
CREATE TRIGGER workspace_members_delete AFTER DELETE ON workspace_memberships
WHEN OLD.deleted_at IS NULL BEGIN
    UPDATE workspaces SET member_count = member_count - 1 WHERE id = OLD.workspace_id;
END;

-- trigger workspace_members_insert
CREATE TRIGGER workspace_members_insert AFTER INSERT ON workspace_memberships
WHEN NEW.deleted_at IS NULL
 AND NOT EXISTS (SELECT 1 FROM workspace_recounts WHERE workspace_id = NEW.workspace_id) BEGIN
    UPDATE workspaces SET member_count = member_count + 1 WHERE id = NEW.workspace_id;
END;

-- trigger workspace_members_recount
CREATE TRIGGER workspace_members_recount AFTER INSERT ON workspace_memberships
WHEN EXISTS (SELECT 1 FROM workspace_recounts) BEGIN
    UPDATE workspaces SET member_count = (SELECT count(*) FROM workspace_memberships c
                                           WHERE c.workspace_id = workspaces.id AND c.deleted_at IS NULL)
     WHERE id IN (SELECT workspace_id FROM workspace_recounts);
END;

-- trigger workspace_members_replacing
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

-- trigger workspace_members_update
CREATE TRIGGER workspace_members_update AFTER UPDATE OF workspace_id, deleted_at ON workspace_memberships BEGIN
    UPDATE workspaces SET member_count = member_count - 1 WHERE id = OLD.workspace_id AND OLD.deleted_at IS NULL;
    UPDATE workspaces SET member_count = member_count + 1 WHERE id = NEW.workspace_id AND NEW.deleted_at IS NULL;
END;

-- trigger workspace_membership_roles_delete
CREATE TRIGGER workspace_membership_roles_delete AFTER DELETE ON workspace_membership_roles BEGIN
    UPDATE workspace_memberships SET role_refs = NULL WHERE id = OLD.workspace_membership_id;
END;

-- trigger workspace_membership_roles_insert
CREATE TRIGGER workspace_membership_roles_insert AFTER INSERT ON workspace_membership_roles BEGIN
    UPDATE workspace_memberships SET role_refs = NULL WHERE id = NEW.workspace_membership_id;
END;

-- trigger workspace_membership_roles_update
CREATE TRIGGER workspace_membership_roles_update AFTER UPDATE ON workspace_membership_roles BEGIN
    UPDATE workspace_memberships SET role_refs = NULL WHERE id IN (OLD.workspace_membership_id, NEW.workspace_membership_id);
END;

-- trigger workspace_memberships_organization_insert
CREATE TRIGGER workspace_memberships_organization_insert AFTER INSERT ON workspace_memberships
WHEN NEW.deleted_at IS NULL BEGIN
    UPDATE workspace_memberships SET (organization_membership_live, organization_permissions) = (
        SELECT om.deleted_at IS NULL, om.permissions FROM organization_memberships om
         WHERE om.id = NEW.organization_membership_id)
     WHERE id = NEW.id;
END;

-- trigger workspace_memberships_organization_update
CREATE TRIGGER workspace_memberships_organization_update
AFTER UPDATE OF organization_membership_id, deleted_at ON workspace_memberships
WHEN NEW.deleted_at IS NULL BEGIN
    UPDATE workspace_memberships SET (organization_membership_live, organization_permissions) = (
        SELECT om.deleted_at IS NULL, om.permissions FROM organization_memberships om
         WHERE om.id = NEW.organization_membership_id)
     WHERE id = NEW.id;
END;

-- trigger workspace_memberships_replaced
CREATE TRIGGER workspace_memberships_replaced AFTER INSERT ON workspace_memberships
WHEN NEW.role_refs IS NOT NULL
  OR EXISTS (SELECT 1 FROM workspace_membership_roles WHERE workspace_membership_id = NEW.id) BEGIN
    SELECT RAISE(ABORT, 'tenant: workspace role of another workspace')
     WHERE EXISTS (SELECT 1 FROM workspace_membership_roles l JOIN workspace_roles r ON r.id = l.workspace_role_id
                    WHERE l.workspace_membership_id = NEW.id AND r.workspace_id <> NEW.workspace_id);
    UPDATE workspace_memberships SET role_refs = NULL WHERE id = NEW.id;
END;

-- trigger workspace_memberships_role_refs
CREATE TRIGGER workspace_memberships_role_refs AFTER UPDATE OF role_refs ON workspace_memberships BEGIN
    UPDATE workspace_memberships SET role_refs = (
        SELECT group_concat(r.id || '.' || r.version)
          FROM workspace_membership_roles wr JOIN workspace_roles r ON r.id = wr.workspace_role_id
         WHERE wr.workspace_membership_id = NEW.id AND r.deleted_at IS NULL)
     WHERE id = NEW.id;
END;

-- trigger workspace_roles_deleted
CREATE TRIGGER workspace_roles_deleted AFTER DELETE ON workspace_roles BEGIN
    UPDATE workspace_memberships SET role_refs = NULL
     WHERE id IN (SELECT workspace_membership_id FROM workspace_membership_roles WHERE workspace_role_id = OLD.id);
END;

-- trigger workspace_roles_replaced
CREATE TRIGGER workspace_roles_replaced AFTER INSERT ON workspace_roles
WHEN EXISTS (SELECT 1 FROM workspace_membership_roles l JOIN workspace_memberships m ON m.id = l.workspace_membership_id
             WHERE l.workspace_role_id = NEW.id AND m.workspace_id <> NEW.workspace_id)
BEGIN SELECT RAISE(ABORT, 'tenant: workspace role of another workspace'); END;

-- trigger workspace_roles_version_insert
CREATE TRIGGER workspace_roles_version_insert AFTER INSERT ON workspace_roles BEGIN
    UPDATE fragment_clock SET n = max(n + 1, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
    UPDATE workspace_roles SET version = (SELECT n FROM fragment_clock) WHERE id = NEW.id;
END;

-- trigger workspace_roles_version_update
CREATE TRIGGER workspace_roles_version_update AFTER UPDATE ON workspace_roles BEGIN
    UPDATE fragment_clock SET n = max(n + 1, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
    UPDATE workspace_roles SET version = (SELECT n FROM fragment_clock) WHERE id = NEW.id;
    UPDATE workspace_memberships SET role_refs = NULL
     WHERE id IN (SELECT workspace_membership_id FROM workspace_membership_roles WHERE workspace_role_id = NEW.id);
END;

-- trigger workspace_segments_version_delete
CREATE TRIGGER workspace_segments_version_delete AFTER DELETE ON workspace_segments BEGIN
    UPDATE workspaces SET version = version WHERE id = OLD.workspace_id;
END;

-- trigger workspace_segments_version_insert
CREATE TRIGGER workspace_segments_version_insert AFTER INSERT ON workspace_segments BEGIN
    UPDATE workspaces SET version = version WHERE id = NEW.workspace_id;
END;

-- trigger workspace_segments_version_update
CREATE TRIGGER workspace_segments_version_update AFTER UPDATE ON workspace_segments BEGIN
    UPDATE workspaces SET version = version WHERE id IN (OLD.workspace_id, NEW.workspace_id);
END;

-- trigger workspaces_replaced
CREATE TRIGGER workspaces_replaced AFTER INSERT ON workspaces
WHEN NEW.member_count <> (SELECT count(*) FROM workspace_memberships c
                           WHERE c.workspace_id = NEW.id AND c.deleted_at IS NULL) BEGIN
    UPDATE workspaces SET member_count = (SELECT count(*) FROM workspace_memberships c
                                           WHERE c.workspace_id = NEW.id AND c.deleted_at IS NULL)
     WHERE id = NEW.id;
END;

-- trigger workspaces_version_insert
CREATE TRIGGER workspaces_version_insert AFTER INSERT ON workspaces BEGIN
    UPDATE fragment_clock SET n = max(n + 1, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
    UPDATE workspaces SET version = (SELECT n FROM fragment_clock) WHERE id = NEW.id;
END;

-- trigger workspaces_version_update
CREATE TRIGGER workspaces_version_update AFTER UPDATE ON workspaces BEGIN
    UPDATE fragment_clock SET n = max(n + 1, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
    UPDATE workspaces SET version = (SELECT n FROM fragment_clock) WHERE id = NEW.id;
END;
