CREATE TABLE points (x int, y int);
CREATE TABLE shapes (id int PRIMARY KEY, corner points);
CREATE FUNCTION first_point() RETURNS points LANGUAGE sql BEGIN ATOMIC SELECT x, y FROM points LIMIT 1; END;
CREATE FUNCTION norm(p points) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT p.x * p.x + p.y * p.y $$;
CREATE TABLE kept (id int);
