CREATE TYPE level AS ENUM ('none', 'low', 'mid', 'high', 'max');
COMMENT ON TYPE level IS 'severity';
