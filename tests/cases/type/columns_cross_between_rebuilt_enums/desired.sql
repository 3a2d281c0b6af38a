-- Both enums lose a value (so both are rebuilt) while columns move between them.
CREATE TYPE e0 AS ENUM ('a', 'b');
CREATE TYPE e1 AS ENUM ('x', 'a');
CREATE TABLE t (id int PRIMARY KEY, c0 e1 NOT NULL DEFAULT 'a', c1 e0, c2 e0);
