-- Keeps updated_at current on every UPDATE; shared by several tables.
CREATE FUNCTION set_updated_at() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION set_updated_at IS 'Trigger function: sets updated_at to now()';
