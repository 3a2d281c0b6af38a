CREATE FUNCTION is_admin() RETURNS boolean LANGUAGE sql STABLE AS $$ SELECT current_user = 'admin' $$;
CREATE TABLE docs (id int PRIMARY KEY, owner text, public boolean);
ALTER TABLE docs ENABLE ROW LEVEL SECURITY;
CREATE POLICY docs_owner ON docs FOR ALL TO strata_reader USING (owner = current_user OR is_admin()) WITH CHECK (owner = current_user);
CREATE POLICY docs_public ON docs AS RESTRICTIVE FOR SELECT USING (public OR is_admin());
