-- Append-only audit trail, in its own schema, partitioned by month.
CREATE SCHEMA audit;

COMMENT ON SCHEMA audit IS 'Append-only audit trail';

CREATE TABLE audit.audit_log (
    id          bigint GENERATED ALWAYS AS IDENTITY,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    user_id     bigint,
    action      text        NOT NULL,
    object_type text        NOT NULL,
    object_id   bigint,
    details     jsonb       NOT NULL DEFAULT '{}',
    PRIMARY KEY (id, occurred_at)
) PARTITION BY RANGE (occurred_at);

CREATE TABLE audit.audit_log_2026_11 PARTITION OF audit.audit_log
    FOR VALUES FROM ('2026-11-01 00:00:00+00') TO ('2026-12-01 00:00:00+00');

CREATE TABLE audit.audit_log_2026_12 PARTITION OF audit.audit_log
    FOR VALUES FROM ('2026-12-01 00:00:00+00') TO ('2027-01-01 00:00:00+00');

-- Rows of a month without its partition land here instead of failing the insert. Add each
-- month's partition ahead of time (see the runbook, "Audit log partitions").
CREATE TABLE audit.audit_log_default PARTITION OF audit.audit_log DEFAULT;

CREATE INDEX audit_log_object_idx ON audit.audit_log (object_type, object_id);

-- Append-only: rows are never changed or removed.
CREATE FUNCTION audit.forbid_change() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    RAISE EXCEPTION 'audit.audit_log is append-only';
END;
$$;

CREATE TRIGGER audit_log_append_only
    BEFORE UPDATE OR DELETE ON audit.audit_log
    FOR EACH ROW EXECUTE FUNCTION audit.forbid_change();
