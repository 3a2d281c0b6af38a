CREATE TABLE named (name text NOT NULL);
CREATE TABLE dated (created date DEFAULT current_date);
