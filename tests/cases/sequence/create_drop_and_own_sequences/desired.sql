CREATE SEQUENCE new_seq AS integer MINVALUE 10 START 10 CACHE 5;
CREATE SEQUENCE orphan_seq;
CREATE TABLE t (id int PRIMARY KEY, n bigint DEFAULT nextval('orphan_seq'));
ALTER SEQUENCE orphan_seq OWNED BY t.n;
