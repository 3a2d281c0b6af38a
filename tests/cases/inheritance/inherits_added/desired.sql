CREATE TABLE assets (id bigint PRIMARY KEY, label text NOT NULL);
CREATE TABLE cars (vin text UNIQUE, seats int DEFAULT 4) INHERITS (assets);
CREATE SEQUENCE cars_seq OWNED BY cars.id;
ALTER TABLE cars ALTER COLUMN id SET DEFAULT nextval('cars_seq');
CREATE VIEW car_labels AS SELECT label, vin FROM cars;
CREATE TABLE trips (id bigint PRIMARY KEY, car_vin text REFERENCES cars (vin));
