CREATE TABLE shapes (id int PRIMARY KEY, area numeric, color text);
CREATE TABLE circles (radius numeric) INHERITS (shapes);
