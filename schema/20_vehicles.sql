CREATE TABLE vehicles (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    vin              vin              NOT NULL UNIQUE,
    model            text             NOT NULL,
    model_year       smallint         CHECK (model_year BETWEEN 1980 AND 2100),
    connection_state connection_state NOT NULL DEFAULT 'unknown',
    last_seen_at     timestamptz,
    mileage_km       integer          NOT NULL DEFAULT 0 CHECK (mileage_km >= 0),
    created_at       timestamptz      NOT NULL DEFAULT now(),
    updated_at       timestamptz      NOT NULL DEFAULT now()
);

CREATE INDEX vehicles_model_idx ON vehicles (model);
CREATE INDEX vehicles_last_seen_idx ON vehicles (last_seen_at DESC) WHERE connection_state = 'online';

CREATE TRIGGER vehicles_set_updated_at
    BEFORE UPDATE ON vehicles
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

COMMENT ON TABLE vehicles IS 'Vehicles reachable through the SOVD gateway';
COMMENT ON COLUMN vehicles.last_seen_at IS 'Last time the vehicle answered the gateway';
COMMENT ON COLUMN vehicles.mileage_km IS 'Odometer reading last reported by the vehicle';

-- Diagnostic trouble codes reported by a vehicle.
CREATE TABLE fault_codes (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    vehicle_id    bigint      NOT NULL REFERENCES vehicles (id) ON DELETE CASCADE,
    code          text        NOT NULL CHECK (code ~ '^[PCBU][0-9A-F]{4}$'),
    status        smallint    NOT NULL CHECK (status BETWEEN 0 AND 255),
    first_seen_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (vehicle_id, code)
);

COMMENT ON COLUMN fault_codes.code IS 'DTC in SAE J2012 form, e.g. P0301';
COMMENT ON COLUMN fault_codes.status IS 'DTC status byte (ISO 14229-1)';
