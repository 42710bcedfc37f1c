-- Every node hears of a change to the enabled plugins as it commits
-- (LISTEN/NOTIFY). The channel is the schema's, so platforms sharing a
-- database in separate schemas do not hear each other.
CREATE FUNCTION notify_deployment_change() RETURNS trigger AS $$
DECLARE
    changed deployments;
BEGIN
    IF TG_OP = 'DELETE' THEN
        changed := OLD;
    ELSE
        changed := NEW;
    END IF;
    PERFORM pg_notify(
        'pa_' || md5(current_schema()),
        json_build_object('tenant', changed.tenant, 'plugin', changed.name)::text
    );
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER deployments_changed
    AFTER INSERT OR UPDATE OR DELETE ON deployments
    FOR EACH ROW EXECUTE FUNCTION notify_deployment_change();
