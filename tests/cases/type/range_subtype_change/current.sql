CREATE TYPE span AS RANGE (subtype = int4);
CREATE TABLE bookings (id int, during span);
