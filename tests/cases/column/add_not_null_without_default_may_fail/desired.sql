CREATE TABLE people (id int PRIMARY KEY, email text NOT NULL, nick text NOT NULL DEFAULT '');
