-- The application's role: what the SOVD backend needs, and nothing more. It owns nothing
-- (the migration role owns the schema), so row-level security applies to it. A plan
-- creates it when the server lacks it (the migration role then needs CREATEROLE); the
-- backend's login, with its password, is made outside schema/ (see the runbook, "Roles"):
--     CREATE ROLE sovd_backend LOGIN PASSWORD '...' IN ROLE sovd_app;
CREATE ROLE sovd_app NOLOGIN;

GRANT USAGE ON SCHEMA audit TO sovd_app;

GRANT SELECT, INSERT, UPDATE, DELETE ON users, refresh_tokens, api_keys TO sovd_app;

GRANT SELECT, INSERT, UPDATE, DELETE ON vehicles, fault_codes TO sovd_app;

GRANT SELECT, INSERT, UPDATE, DELETE ON diagnostic_sessions, diagnostic_jobs TO sovd_app;

GRANT SELECT ON vehicle_health TO sovd_app;

-- Append-only: the application writes and reads the audit trail, never changes it.
GRANT SELECT, INSERT ON audit.audit_log TO sovd_app;
