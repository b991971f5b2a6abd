-- Version stamps for the answer's fragments (internal/store/fragment): a
-- workspace, an organization and a workspace role each carry a version that
-- changes on every write to anything its JSON shows, whoever writes it, so an
-- instance may keep its encoding per (id, version). Versions come from one
-- sequence, so a row deleted and inserted again never reuses one.
CREATE SEQUENCE fragment_versions;

ALTER TABLE workspaces ADD COLUMN version bigint NOT NULL DEFAULT 0;
ALTER TABLE organizations ADD COLUMN version bigint NOT NULL DEFAULT 0;
ALTER TABLE workspace_roles ADD COLUMN version bigint NOT NULL DEFAULT 0;

-- Every insert and update of the row itself (member counts included, which
-- the triggers of 0002 write) takes the next version.
CREATE FUNCTION fragment_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.version := nextval('fragment_versions');
    RETURN NEW;
END $$;
CREATE TRIGGER workspaces_version BEFORE INSERT OR UPDATE ON workspaces
    FOR EACH ROW EXECUTE FUNCTION fragment_version();
CREATE TRIGGER organizations_version BEFORE INSERT OR UPDATE ON organizations
    FOR EACH ROW EXECUTE FUNCTION fragment_version();
CREATE TRIGGER workspace_roles_version BEFORE INSERT OR UPDATE ON workspace_roles
    FOR EACH ROW EXECUTE FUNCTION fragment_version();

-- What a workspace or an organization shows of other tables: its segment
-- links and the segments. Touching the row takes it a new version.
CREATE FUNCTION workspace_segments_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE workspaces SET version = version WHERE id IN (
        SELECT workspace_id FROM (VALUES (OLD.workspace_id), (NEW.workspace_id)) AS t (workspace_id));
    RETURN NULL;
END $$;
CREATE TRIGGER workspace_segments_version AFTER INSERT OR UPDATE OR DELETE ON workspace_segments
    FOR EACH ROW EXECUTE FUNCTION workspace_segments_version();

CREATE FUNCTION organization_segments_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE organizations SET version = version WHERE id IN (
        SELECT organization_id FROM (VALUES (OLD.organization_id), (NEW.organization_id)) AS t (organization_id));
    RETURN NULL;
END $$;
CREATE TRIGGER organization_segments_version AFTER INSERT OR UPDATE OR DELETE ON organization_segments
    FOR EACH ROW EXECUTE FUNCTION organization_segments_version();

CREATE FUNCTION segments_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE workspaces SET version = version
     WHERE id IN (SELECT workspace_id FROM workspace_segments WHERE segment_id = OLD.id);
    UPDATE organizations SET version = version
     WHERE id IN (SELECT organization_id FROM organization_segments WHERE segment_id = OLD.id);
    RETURN NULL;
END $$;
CREATE TRIGGER segments_version AFTER UPDATE OR DELETE ON segments
    FOR EACH ROW EXECUTE FUNCTION segments_version();

-- What each membership row needs besides its own fields, kept on the rows by
-- triggers, so the per-request statement reads columns instead of running a
-- subquery per membership (most of its cost): the membership's live roles as
-- "id.version,…" (NULL: none), and the distinct permissions of the live
-- roles of an organization membership as a JSON array (NULL: none).
ALTER TABLE workspace_memberships ADD COLUMN role_refs text;
ALTER TABLE organization_memberships ADD COLUMN permissions text;

-- Set-based (one aggregate, joined), so that refreshing a bulk load's
-- memberships is one pass, not a subquery per row.
CREATE FUNCTION refresh_role_refs(ids bigint[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    UPDATE workspace_memberships wm SET role_refs = refs.refs
      FROM (SELECT DISTINCT id FROM unnest(ids) id WHERE id IS NOT NULL) m
      LEFT JOIN (SELECT wr.workspace_membership_id AS id, string_agg(r.id || '.' || r.version, ',') AS refs
                   FROM workspace_membership_roles wr
                   JOIN workspace_roles r ON r.id = wr.workspace_role_id AND r.deleted_at IS NULL
                  WHERE wr.workspace_membership_id = ANY (ids)
                  GROUP BY wr.workspace_membership_id) refs ON refs.id = m.id
     WHERE wm.id = m.id;
END $$;
CREATE FUNCTION refresh_permissions(ids bigint[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    UPDATE organization_memberships om SET permissions = perms.perms
      FROM (SELECT DISTINCT id FROM unnest(ids) id WHERE id IS NOT NULL) m
      LEFT JOIN (SELECT orl.organization_membership_id AS id, json_agg(DISTINCT p)::text AS perms
                   FROM organization_membership_roles orl
                   JOIN organization_roles r ON r.id = orl.organization_role_id AND r.deleted_at IS NULL,
                        unnest(r.permissions) p
                  WHERE orl.organization_membership_id = ANY (ids)
                  GROUP BY orl.organization_membership_id) perms ON perms.id = m.id
     WHERE om.id = m.id;
END $$;
SELECT refresh_role_refs(array_agg(id)) FROM workspace_memberships;
SELECT refresh_permissions(array_agg(id)) FROM organization_memberships;

-- Statement triggers over transition tables: a bulk load of links refreshes
-- each membership once, in one UPDATE, not once per link.
CREATE FUNCTION workspace_membership_roles_refs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM refresh_role_refs(ARRAY(SELECT DISTINCT workspace_membership_id FROM old_links));
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        PERFORM refresh_role_refs(ARRAY(SELECT DISTINCT workspace_membership_id FROM new_links));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER workspace_membership_roles_refs_insert AFTER INSERT ON workspace_membership_roles
    REFERENCING NEW TABLE AS new_links FOR EACH STATEMENT EXECUTE FUNCTION workspace_membership_roles_refs();
CREATE TRIGGER workspace_membership_roles_refs_update AFTER UPDATE ON workspace_membership_roles
    REFERENCING OLD TABLE AS old_links NEW TABLE AS new_links FOR EACH STATEMENT EXECUTE FUNCTION workspace_membership_roles_refs();
CREATE TRIGGER workspace_membership_roles_refs_delete AFTER DELETE ON workspace_membership_roles
    REFERENCING OLD TABLE AS old_links FOR EACH STATEMENT EXECUTE FUNCTION workspace_membership_roles_refs();

CREATE FUNCTION workspace_roles_refs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM refresh_role_refs(ARRAY(
        SELECT DISTINCT wr.workspace_membership_id FROM workspace_membership_roles wr
          JOIN new_roles r ON r.id = wr.workspace_role_id));
    RETURN NULL;
END $$;
CREATE TRIGGER workspace_roles_refs AFTER UPDATE ON workspace_roles
    REFERENCING NEW TABLE AS new_roles FOR EACH STATEMENT EXECUTE FUNCTION workspace_roles_refs();

CREATE FUNCTION organization_membership_roles_permissions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM refresh_permissions(ARRAY(SELECT DISTINCT organization_membership_id FROM old_links));
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        PERFORM refresh_permissions(ARRAY(SELECT DISTINCT organization_membership_id FROM new_links));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER organization_membership_roles_permissions_insert AFTER INSERT ON organization_membership_roles
    REFERENCING NEW TABLE AS new_links FOR EACH STATEMENT EXECUTE FUNCTION organization_membership_roles_permissions();
CREATE TRIGGER organization_membership_roles_permissions_update AFTER UPDATE ON organization_membership_roles
    REFERENCING OLD TABLE AS old_links NEW TABLE AS new_links FOR EACH STATEMENT EXECUTE FUNCTION organization_membership_roles_permissions();
CREATE TRIGGER organization_membership_roles_permissions_delete AFTER DELETE ON organization_membership_roles
    REFERENCING OLD TABLE AS old_links FOR EACH STATEMENT EXECUTE FUNCTION organization_membership_roles_permissions();

CREATE FUNCTION organization_roles_permissions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM refresh_permissions(ARRAY(
        SELECT DISTINCT orl.organization_membership_id FROM organization_membership_roles orl
          JOIN new_roles r ON r.id = orl.organization_role_id));
    RETURN NULL;
END $$;
CREATE TRIGGER organization_roles_permissions AFTER UPDATE ON organization_roles
    REFERENCING NEW TABLE AS new_roles FOR EACH STATEMENT EXECUTE FUNCTION organization_roles_permissions();

-- Times as the fragment path reads them on both stores: unix microseconds.
CREATE FUNCTION micros(timestamptz) RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT (extract(epoch FROM $1) * 1000000)::bigint $$;
