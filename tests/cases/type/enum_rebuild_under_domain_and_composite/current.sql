CREATE TYPE level AS ENUM ('low', 'mid', 'high', 'obsolete');
CREATE DOMAIN checked_level AS level NOT NULL CHECK (VALUE <> 'mid');
CREATE TYPE reading AS (lvl level, at timestamptz);
CREATE TABLE alerts (id int PRIMARY KEY, lvl checked_level, last reading, history level[]);
