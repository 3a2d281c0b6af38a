CREATE TYPE tag AS ENUM ('red', 'green', 'blue');
CREATE TABLE items (id int PRIMARY KEY, tags tag[] NOT NULL DEFAULT '{}', main tag);
CREATE VIEW red_items AS SELECT id FROM items WHERE main = 'red';
