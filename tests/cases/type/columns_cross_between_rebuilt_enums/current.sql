CREATE TYPE e0 AS ENUM ('a', 'b', 'c');
CREATE TYPE e1 AS ENUM ('x', 'y', 'a');
CREATE TABLE t (id int PRIMARY KEY, c0 e0 NOT NULL DEFAULT 'a', c1 e1, c2 e0);
