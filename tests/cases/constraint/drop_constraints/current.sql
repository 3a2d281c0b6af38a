CREATE TABLE p (id int PRIMARY KEY);
CREATE TABLE t (id int PRIMARY KEY, p_id int REFERENCES p (id), n int CHECK (n > 0), u int UNIQUE);
