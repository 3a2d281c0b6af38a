CREATE EXTENSION IF NOT EXISTS citext;
CREATE TABLE users (id int PRIMARY KEY, email citext);
