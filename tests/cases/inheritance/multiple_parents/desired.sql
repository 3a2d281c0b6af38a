CREATE TABLE named (name text NOT NULL);
CREATE TABLE dated (created date DEFAULT current_date, name text);
CREATE TABLE projects (id bigint PRIMARY KEY, name text NOT NULL) INHERITS (named, dated);
CREATE INDEX projects_name_idx ON projects (name);
