CREATE TABLE visits (id bigint PRIMARY KEY, page text, at timestamptz);
CREATE INDEX visits_page_idx ON visits (page);
CREATE INDEX visits_at_idx ON visits (at);
