CREATE EXTENSION IF NOT EXISTS citext;
CREATE TABLE users (id int PRIMARY KEY, email citext NOT NULL DEFAULT '');
CREATE UNIQUE INDEX users_email_key ON users (email);
