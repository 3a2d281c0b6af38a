CREATE SEQUENCE old_seq;
CREATE SEQUENCE orphan_seq;
CREATE TABLE t (id int PRIMARY KEY, n bigint);
