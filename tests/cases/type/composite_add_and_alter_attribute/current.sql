CREATE TYPE point3 AS (x int, y int, legacy text);
