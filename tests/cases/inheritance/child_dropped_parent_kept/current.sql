CREATE TABLE shapes (id int PRIMARY KEY, area numeric);
CREATE TABLE circles (radius numeric) INHERITS (shapes);
CREATE TABLE squares (side numeric) INHERITS (shapes);
