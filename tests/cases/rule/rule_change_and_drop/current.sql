CREATE TABLE logs (id int, msg text);
CREATE TABLE archive (id int, msg text);
CREATE RULE logs_keep AS ON DELETE TO logs DO ALSO INSERT INTO archive VALUES (OLD.id, OLD.msg);
CREATE RULE logs_block AS ON UPDATE TO logs DO INSTEAD NOTHING;
