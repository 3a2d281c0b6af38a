CREATE TABLE jobs (id int PRIMARY KEY, vehicle_id int);
CREATE INDEX jobs_vehicle_idx ON jobs (vehicle_id);
