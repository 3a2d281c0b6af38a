CREATE TABLE events (id int PRIMARY KEY, created bigint NOT NULL, flag int);
