CREATE TABLE readings (
    id bigint GENERATED ALWAYS AS IDENTITY,
    sensor int NOT NULL,
    at date NOT NULL,
    value numeric,
    PRIMARY KEY (id, sensor, at)
) PARTITION BY HASH (sensor);
CREATE TABLE readings_h0 PARTITION OF readings FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE readings_h1 PARTITION OF readings FOR VALUES WITH (MODULUS 2, REMAINDER 1);
CREATE TABLE alarms (id bigint PRIMARY KEY, reading bigint NOT NULL, sensor int NOT NULL, at date NOT NULL,
    FOREIGN KEY (reading, sensor, at) REFERENCES readings (id, sensor, at));
CREATE FUNCTION readings_touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.value := coalesce(NEW.value, 0); RETURN NEW; END $$;
CREATE TRIGGER readings_touch BEFORE INSERT ON readings FOR EACH ROW EXECUTE FUNCTION readings_touch();
CREATE VIEW sensor_totals AS SELECT sensor, sum(value) AS total FROM readings GROUP BY sensor;
COMMENT ON TABLE readings IS 'sensor readings';
