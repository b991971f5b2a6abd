-- Schema of the memberships service on PostgreSQL: the same tables,
-- constraints and soft deletes as the SQLite store's 0001_init.sql.
--
-- Times are timestamptz (microseconds, like SQLite's unix microseconds).
-- Metadata is `json`, not `jsonb`: json keeps the text as loaded, so both
-- stores return the same bytes. Lists of strings are text[]. Constraints the
-- loader explains are named explicitly (see load.go).

CREATE TABLE deployments (
    id                                 bigint      PRIMARY KEY,
    -- The primary host, the issuer of the deployment's tokens; it is also one
    -- of the deployment_hosts.
    host                               text        NOT NULL CONSTRAINT host CHECK (host <> '' AND host = lower(host)),
    mode                               text        NOT NULL CONSTRAINT mode CHECK (mode IN ('production', 'staging')),
    ip_allowlist_per_workspace_enabled boolean     NOT NULL,
    enforce_mfa_per_workspace_enabled  boolean     NOT NULL,
    -- Browser origins granted CORS with credentials.
    allowed_origins                    text[]      NOT NULL DEFAULT '{}',
    created_at                         timestamptz NOT NULL,
    updated_at                         timestamptz NOT NULL,
    deleted_at                         timestamptz
);

CREATE TABLE deployment_hosts (
    host          text   CONSTRAINT deployment_hosts_pkey PRIMARY KEY CONSTRAINT host CHECK (host <> '' AND host = lower(host)),
    deployment_id bigint NOT NULL REFERENCES deployments (id)
);

-- One ES256 key pair per deployment.
CREATE TABLE deployment_key_pairs (
    deployment_id   bigint      PRIMARY KEY REFERENCES deployments (id),
    private_key_pem text        NOT NULL CONSTRAINT private_key_pem CHECK (private_key_pem <> ''),
    public_key_pem  text        NOT NULL CONSTRAINT public_key_pem CHECK (public_key_pem <> ''),
    created_at      timestamptz NOT NULL
);

CREATE TABLE users (
    id                     bigint      PRIMARY KEY,
    deployment_id          bigint      NOT NULL REFERENCES deployments (id),
    email                  text        NOT NULL CONSTRAINT email CHECK (email <> ''),
    first_name             text        NOT NULL,
    last_name              text        NOT NULL,
    backup_codes_generated boolean     NOT NULL,
    created_at             timestamptz NOT NULL,
    updated_at             timestamptz NOT NULL,
    deleted_at             timestamptz
);

-- E-mail addresses are unique per deployment ignoring case; FindUser looks
-- them up through this index.
CREATE UNIQUE INDEX users_deployment_email ON users (deployment_id, lower(email));

CREATE TABLE user_authenticators (
    id         bigint      PRIMARY KEY,
    user_id    bigint      NOT NULL REFERENCES users (id),
    type       text        NOT NULL CONSTRAINT type CHECK (type <> ''),
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    deleted_at timestamptz
);

CREATE INDEX user_authenticators_user ON user_authenticators (user_id) WHERE deleted_at IS NULL;

CREATE TABLE sessions (
    id                bigint      PRIMARY KEY,
    deployment_id     bigint      NOT NULL REFERENCES deployments (id),
    -- Set after the sign-in is written (sign_ins points back here); its
    -- foreign key is added below, once sign_ins exists.
    active_sign_in_id bigint,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    deleted_at        timestamptz
);

CREATE TABLE sign_ins (
    id            bigint      PRIMARY KEY,
    session_id    bigint      NOT NULL REFERENCES sessions (id),
    user_id       bigint      NOT NULL REFERENCES users (id),
    expires_at    timestamptz NOT NULL,
    signed_out_at timestamptz,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);

CREATE INDEX sign_ins_session ON sign_ins (session_id);

ALTER TABLE sessions ADD FOREIGN KEY (active_sign_in_id) REFERENCES sign_ins (id);

CREATE TABLE rotating_tokens (
    id            bigint      PRIMARY KEY,
    session_id    bigint      NOT NULL REFERENCES sessions (id),
    valid_until   timestamptz NOT NULL,
    -- The token that replaced this one, once it has been rotated, and when.
    next_token_id bigint      REFERENCES rotating_tokens (id),
    rotated_at    timestamptz,
    created_at    timestamptz NOT NULL,
    CHECK ((next_token_id IS NULL) = (rotated_at IS NULL))
);

CREATE INDEX rotating_tokens_session ON rotating_tokens (session_id);

CREATE TABLE segments (
    id            bigint      PRIMARY KEY,
    deployment_id bigint      NOT NULL REFERENCES deployments (id),
    name          text        NOT NULL,
    type          text        NOT NULL CONSTRAINT type CHECK (type IN ('user', 'organization', 'workspace')),
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    deleted_at    timestamptz
);

CREATE TABLE organizations (
    id                         bigint      PRIMARY KEY,
    deployment_id              bigint      NOT NULL REFERENCES deployments (id),
    name                       text        NOT NULL,
    image_url                  text        NOT NULL,
    description                text        NOT NULL,
    public_metadata            json        NOT NULL CONSTRAINT public_metadata CHECK (json_typeof(public_metadata) = 'object'),
    private_metadata           json        NOT NULL CONSTRAINT private_metadata CHECK (json_typeof(private_metadata) = 'object'),
    enforce_mfa                boolean     NOT NULL,
    enable_ip_restriction      boolean     NOT NULL,
    whitelisted_ips            text[]      NOT NULL,
    -- Must be a workspace of this organization (foreign key added below).
    auto_assigned_workspace_id bigint,
    created_at                 timestamptz NOT NULL,
    updated_at                 timestamptz NOT NULL,
    deleted_at                 timestamptz,
    CONSTRAINT organizations_id_deployment UNIQUE (id, deployment_id)
);

CREATE TABLE organization_segments (
    organization_id bigint NOT NULL REFERENCES organizations (id),
    segment_id      bigint NOT NULL REFERENCES segments (id),
    PRIMARY KEY (organization_id, segment_id)
);

CREATE TABLE workspaces (
    id                    bigint      PRIMARY KEY,
    organization_id       bigint      NOT NULL,
    deployment_id         bigint      NOT NULL,
    name                  text        NOT NULL,
    image_url             text        NOT NULL,
    description           text        NOT NULL,
    public_metadata       json        NOT NULL CONSTRAINT public_metadata CHECK (json_typeof(public_metadata) = 'object'),
    private_metadata      json        NOT NULL CONSTRAINT private_metadata CHECK (json_typeof(private_metadata) = 'object'),
    enforce_2fa           boolean     NOT NULL,
    enable_ip_restriction boolean     NOT NULL,
    whitelisted_ips       text[]      NOT NULL,
    created_at            timestamptz NOT NULL,
    updated_at            timestamptz NOT NULL,
    deleted_at            timestamptz,
    CONSTRAINT workspaces_id_organization UNIQUE (id, organization_id),
    FOREIGN KEY (organization_id, deployment_id) REFERENCES organizations (id, deployment_id)
);

ALTER TABLE organizations ADD FOREIGN KEY (auto_assigned_workspace_id, id) REFERENCES workspaces (id, organization_id);

CREATE TABLE workspace_segments (
    workspace_id bigint NOT NULL REFERENCES workspaces (id),
    segment_id   bigint NOT NULL REFERENCES segments (id),
    PRIMARY KEY (workspace_id, segment_id)
);

CREATE TABLE organization_roles (
    id              bigint      PRIMARY KEY,
    deployment_id   bigint      NOT NULL,
    organization_id bigint      NOT NULL,
    name            text        NOT NULL,
    permissions     text[]      NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    deleted_at      timestamptz,
    FOREIGN KEY (organization_id, deployment_id) REFERENCES organizations (id, deployment_id)
);

CREATE TABLE workspace_roles (
    id            bigint      PRIMARY KEY,
    deployment_id bigint      NOT NULL REFERENCES deployments (id),
    workspace_id  bigint      NOT NULL REFERENCES workspaces (id),
    name          text        NOT NULL,
    permissions   text[]      NOT NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    deleted_at    timestamptz
);

CREATE TABLE organization_memberships (
    id              bigint      PRIMARY KEY,
    organization_id bigint      NOT NULL REFERENCES organizations (id),
    user_id         bigint      NOT NULL REFERENCES users (id),
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    deleted_at      timestamptz,
    CONSTRAINT organization_memberships_id_organization_user UNIQUE (id, organization_id, user_id)
);

-- One live membership per user and organization; its organization_id prefix
-- also serves the organization member count.
CREATE UNIQUE INDEX organization_memberships_live
    ON organization_memberships (organization_id, user_id) WHERE deleted_at IS NULL;

CREATE TABLE organization_membership_roles (
    organization_membership_id bigint NOT NULL REFERENCES organization_memberships (id),
    organization_role_id       bigint NOT NULL REFERENCES organization_roles (id),
    PRIMARY KEY (organization_membership_id, organization_role_id)
);

CREATE TABLE workspace_memberships (
    id                         bigint      PRIMARY KEY,
    workspace_id               bigint      NOT NULL,
    organization_id            bigint      NOT NULL,
    organization_membership_id bigint      NOT NULL,
    user_id                    bigint      NOT NULL REFERENCES users (id),
    public_metadata            json        NOT NULL CONSTRAINT public_metadata CHECK (json_typeof(public_metadata) = 'object'),
    created_at                 timestamptz NOT NULL,
    updated_at                 timestamptz NOT NULL,
    deleted_at                 timestamptz,
    -- The workspace is in the organization, and the organization membership
    -- is this user's in that organization.
    FOREIGN KEY (workspace_id, organization_id) REFERENCES workspaces (id, organization_id),
    FOREIGN KEY (organization_membership_id, organization_id, user_id)
        REFERENCES organization_memberships (id, organization_id, user_id)
);

-- The memberships query: a user's live memberships, newest first.
CREATE INDEX workspace_memberships_user
    ON workspace_memberships (user_id, created_at DESC, id DESC) WHERE deleted_at IS NULL;

-- One live membership per user and workspace; the workspace_id prefix also
-- serves the workspace member count.
CREATE UNIQUE INDEX workspace_memberships_live
    ON workspace_memberships (workspace_id, user_id) WHERE deleted_at IS NULL;

CREATE TABLE workspace_membership_roles (
    workspace_membership_id bigint NOT NULL REFERENCES workspace_memberships (id),
    workspace_role_id       bigint NOT NULL REFERENCES workspace_roles (id),
    PRIMARY KEY (workspace_membership_id, workspace_role_id)
);
