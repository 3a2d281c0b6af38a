CREATE TYPE point3 AS (x bigint, y int, z int);
