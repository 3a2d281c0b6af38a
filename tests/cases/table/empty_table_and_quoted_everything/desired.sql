CREATE SCHEMA "Weird Schema";
CREATE TYPE "Weird Schema"."Mood" AS ENUM ('it''s ok', 'Großartig');
CREATE TABLE "Weird Schema"."Order" ();
CREATE TABLE "Weird Schema"."Table" ("Column" "Weird Schema"."Mood", "user" int, "a""b" text);
CREATE INDEX "Index Name" ON "Weird Schema"."Table" ("user", "a""b");
CREATE FUNCTION "Weird Schema"."Fn"("Arg" int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT "Arg" + 1 $$;
COMMENT ON TABLE "Weird Schema"."Table" IS 'quotes '' and "doubles"';
