CREATE TABLE logs (id int, msg text);
CREATE TABLE archive (id int, msg text);
CREATE RULE logs_keep AS ON DELETE TO logs WHERE OLD.id > 0 DO ALSO INSERT INTO archive VALUES (OLD.id, OLD.msg);
ALTER TABLE logs DISABLE RULE logs_keep;
