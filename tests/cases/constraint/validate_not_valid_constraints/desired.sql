CREATE TABLE p (id int PRIMARY KEY);
CREATE TABLE c (id int PRIMARY KEY, p_id int, n int, CONSTRAINT c_p_fk FOREIGN KEY (p_id) REFERENCES p (id), CONSTRAINT c_n_positive CHECK (n > 0));
