CREATE TYPE span AS RANGE (subtype = int8);
CREATE TABLE bookings (id int, during span);
