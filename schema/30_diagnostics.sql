CREATE TABLE diagnostic_sessions (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    vehicle_id bigint        NOT NULL REFERENCES vehicles (id) ON DELETE CASCADE,
    user_id    bigint        NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    state      session_state NOT NULL DEFAULT 'open',
    started_at timestamptz   NOT NULL DEFAULT now(),
    ended_at   timestamptz,
    CONSTRAINT diagnostic_sessions_end_after_start CHECK (ended_at IS NULL OR ended_at >= started_at)
);

-- At most one open session per vehicle, and a fast lookup of open sessions.
CREATE UNIQUE INDEX diagnostic_sessions_open_idx ON diagnostic_sessions (vehicle_id) WHERE state = 'open';

CREATE INDEX diagnostic_sessions_user_idx ON diagnostic_sessions (user_id, started_at DESC);

-- Each user sees only the sessions they own; the application sets sovd.user_id per request
-- (SET LOCAL, or set_config(..., true)). FORCE: the tables' owner is held to it too. A
-- pooled connection reset leaves sovd.user_id empty, not unset: NULLIF makes that "no
-- user" (no rows) instead of a cast error.
ALTER TABLE diagnostic_sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE diagnostic_sessions FORCE ROW LEVEL SECURITY;

CREATE POLICY diagnostic_sessions_owner ON diagnostic_sessions
    USING (user_id = NULLIF(current_setting('sovd.user_id', true), '')::bigint);

CREATE TABLE diagnostic_jobs (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_id  bigint      NOT NULL REFERENCES diagnostic_sessions (id) ON DELETE CASCADE,
    kind        job_kind    NOT NULL,
    state       job_state   NOT NULL DEFAULT 'queued',
    parameters  jsonb       NOT NULL DEFAULT '{}',
    result      jsonb,
    created_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- A job is visible, and writable, with its session: through the sessions the user sees
-- (a foreign key check alone would let a user add jobs to anyone's session).
ALTER TABLE diagnostic_jobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE diagnostic_jobs FORCE ROW LEVEL SECURITY;

CREATE POLICY diagnostic_jobs_through_session ON diagnostic_jobs
    USING (EXISTS (SELECT 1 FROM diagnostic_sessions s WHERE s.id = session_id));

CREATE INDEX diagnostic_jobs_session_idx ON diagnostic_jobs (session_id);
CREATE INDEX diagnostic_jobs_result_idx ON diagnostic_jobs USING gin (result jsonb_path_ops);

CREATE TRIGGER diagnostic_jobs_set_updated_at
    BEFORE UPDATE ON diagnostic_jobs
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

COMMENT ON TABLE diagnostic_jobs IS 'SOVD operations run within a diagnostic session';
COMMENT ON COLUMN diagnostic_jobs.parameters IS 'Operation parameters as sent by the client';
