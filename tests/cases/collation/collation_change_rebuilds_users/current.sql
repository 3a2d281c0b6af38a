CREATE COLLATION sortable (provider = icu, locale = 'en-US');
CREATE TABLE words (w text COLLATE sortable);
CREATE INDEX words_w_idx ON words (w);
