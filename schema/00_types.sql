-- Shared types of the SOVD web application.

CREATE TYPE user_role AS ENUM ('viewer', 'engineer', 'admin');

CREATE TYPE connection_state AS ENUM ('online', 'offline', 'unknown');

CREATE TYPE session_state AS ENUM ('open', 'closed', 'aborted');

-- SOVD operations a diagnostic job can run.
CREATE TYPE job_kind AS ENUM ('read_fault_codes', 'clear_fault_codes', 'read_data_identifier', 'run_routine');

CREATE TYPE job_state AS ENUM ('queued', 'running', 'succeeded', 'failed', 'cancelled');

-- ISO 3779: 17 characters, no I, O or Q.
CREATE DOMAIN vin AS text
    CONSTRAINT vin_format CHECK (VALUE ~ '^[A-HJ-NPR-Z0-9]{17}$');

COMMENT ON DOMAIN vin IS 'Vehicle identification number (ISO 3779)';
