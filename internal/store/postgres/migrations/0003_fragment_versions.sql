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

-- Times as the fragment path reads them on both stores: unix microseconds.
CREATE FUNCTION micros(timestamptz) RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT (extract(epoch FROM $1) * 1000000)::bigint $$;
