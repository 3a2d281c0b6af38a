CREATE TABLE dims (id int PRIMARY KEY, w numeric NOT NULL, h numeric NOT NULL, area numeric GENERATED ALWAYS AS (round(w * h, 2)) STORED);
CREATE INDEX dims_area_idx ON dims (area);
