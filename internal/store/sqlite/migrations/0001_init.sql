-- Schema of the memberships service.
--
-- Times are INTEGER unix microseconds in UTC: fixed precision (the same as
-- PostgreSQL's timestamptz), and they sort numerically. Booleans are 0/1.
-- JSON is TEXT checked with json_valid. Soft-deleted rows carry deleted_at.
-- Composite foreign keys keep a row's organization, user and deployment in
-- agreement with the rows it points at, so a query can trust one of them.

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
) STRICT;

CREATE TABLE deployment_hosts (
    host          TEXT    PRIMARY KEY CONSTRAINT host CHECK (host <> '' AND host = lower(host)),
    deployment_id INTEGER NOT NULL REFERENCES deployments (id)
) STRICT, WITHOUT ROWID;

-- One ES256 key pair per deployment.
CREATE TABLE deployment_key_pairs (
    deployment_id   INTEGER PRIMARY KEY REFERENCES deployments (id),
    private_key_pem TEXT    NOT NULL CONSTRAINT private_key_pem CHECK (private_key_pem <> ''),
    public_key_pem  TEXT    NOT NULL CONSTRAINT public_key_pem CHECK (public_key_pem <> ''),
    created_at      INTEGER NOT NULL
) STRICT;

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

CREATE TABLE user_authenticators (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    type       TEXT    NOT NULL CONSTRAINT type CHECK (type <> ''),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    deleted_at INTEGER
) STRICT;

CREATE INDEX user_authenticators_user ON user_authenticators (user_id) WHERE deleted_at IS NULL;

CREATE TABLE sessions (
    id                INTEGER PRIMARY KEY,
    deployment_id     INTEGER NOT NULL REFERENCES deployments (id),
    -- Set after the sign-in is written (sign_ins points back here).
    active_sign_in_id INTEGER REFERENCES sign_ins (id),
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    deleted_at        INTEGER
) STRICT;

CREATE TABLE sign_ins (
    id            INTEGER PRIMARY KEY,
    session_id    INTEGER NOT NULL REFERENCES sessions (id),
    user_id       INTEGER NOT NULL REFERENCES users (id),
    expires_at    INTEGER NOT NULL,
    signed_out_at INTEGER,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;

CREATE INDEX sign_ins_session ON sign_ins (session_id);

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

CREATE INDEX rotating_tokens_session ON rotating_tokens (session_id);

CREATE TABLE segments (
    id            INTEGER PRIMARY KEY,
    deployment_id INTEGER NOT NULL REFERENCES deployments (id),
    name          TEXT    NOT NULL,
    type          TEXT    NOT NULL CONSTRAINT type CHECK (type IN ('user', 'organization', 'workspace')),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    deleted_at    INTEGER
) STRICT;

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
    deleted_at                 INTEGER,
    UNIQUE (id, deployment_id),
    FOREIGN KEY (auto_assigned_workspace_id, id) REFERENCES workspaces (id, organization_id)
) STRICT;

CREATE TABLE organization_segments (
    organization_id INTEGER NOT NULL REFERENCES organizations (id),
    segment_id      INTEGER NOT NULL REFERENCES segments (id),
    PRIMARY KEY (organization_id, segment_id)
) STRICT, WITHOUT ROWID;

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
    deleted_at            INTEGER,
    UNIQUE (id, organization_id),
    FOREIGN KEY (organization_id, deployment_id) REFERENCES organizations (id, deployment_id)
) STRICT;

CREATE TABLE workspace_segments (
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id),
    segment_id   INTEGER NOT NULL REFERENCES segments (id),
    PRIMARY KEY (workspace_id, segment_id)
) STRICT, WITHOUT ROWID;

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

CREATE TABLE workspace_roles (
    id            INTEGER PRIMARY KEY,
    deployment_id INTEGER NOT NULL REFERENCES deployments (id),
    workspace_id  INTEGER NOT NULL REFERENCES workspaces (id),
    name          TEXT    NOT NULL,
    permissions   TEXT    NOT NULL CONSTRAINT permissions CHECK (json_valid(permissions) AND json_type(permissions) = 'array'),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    deleted_at    INTEGER
) STRICT;

CREATE TABLE organization_memberships (
    id              INTEGER PRIMARY KEY,
    organization_id INTEGER NOT NULL REFERENCES organizations (id),
    user_id         INTEGER NOT NULL REFERENCES users (id),
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    deleted_at      INTEGER,
    UNIQUE (id, organization_id, user_id)
) STRICT;

-- One live membership per user and organization; its organization_id prefix
-- also serves the organization member count.
CREATE UNIQUE INDEX organization_memberships_live
    ON organization_memberships (organization_id, user_id) WHERE deleted_at IS NULL;

CREATE TABLE organization_membership_roles (
    organization_membership_id INTEGER NOT NULL REFERENCES organization_memberships (id),
    organization_role_id       INTEGER NOT NULL REFERENCES organization_roles (id),
    PRIMARY KEY (organization_membership_id, organization_role_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE workspace_memberships (
    id                         INTEGER PRIMARY KEY,
    workspace_id               INTEGER NOT NULL,
    organization_id            INTEGER NOT NULL,
    organization_membership_id INTEGER NOT NULL,
    user_id                    INTEGER NOT NULL REFERENCES users (id),
    public_metadata            TEXT    NOT NULL CONSTRAINT public_metadata CHECK (json_valid(public_metadata) AND json_type(public_metadata) = 'object'),
    created_at                 INTEGER NOT NULL,
    updated_at                 INTEGER NOT NULL,
    deleted_at                 INTEGER,
    -- The workspace is in the organization, and the organization membership
    -- is this user's in that organization.
    FOREIGN KEY (workspace_id, organization_id) REFERENCES workspaces (id, organization_id),
    FOREIGN KEY (organization_membership_id, organization_id, user_id)
        REFERENCES organization_memberships (id, organization_id, user_id)
) STRICT;

-- The memberships query: a user's live memberships, newest first.
CREATE INDEX workspace_memberships_user
    ON workspace_memberships (user_id, created_at DESC, id DESC) WHERE deleted_at IS NULL;

-- One live membership per user and workspace; the workspace_id prefix also
-- serves the workspace member count.
CREATE UNIQUE INDEX workspace_memberships_live
    ON workspace_memberships (workspace_id, user_id) WHERE deleted_at IS NULL;

CREATE TABLE workspace_membership_roles (
    workspace_membership_id INTEGER NOT NULL REFERENCES workspace_memberships (id),
    workspace_role_id       INTEGER NOT NULL REFERENCES workspace_roles (id),
    PRIMARY KEY (workspace_membership_id, workspace_role_id)
) STRICT, WITHOUT ROWID;
