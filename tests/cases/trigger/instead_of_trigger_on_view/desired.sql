CREATE TABLE items (id int PRIMARY KEY, name text);
CREATE VIEW item_names AS SELECT id, name FROM items;
CREATE FUNCTION item_names_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO items VALUES (NEW.id, upper(NEW.name)); RETURN NEW; END $$;
CREATE TRIGGER item_names_insert INSTEAD OF INSERT ON item_names FOR EACH ROW EXECUTE FUNCTION item_names_insert();
COMMENT ON TRIGGER item_names_insert ON item_names IS 'names are stored upper case';
