CREATE SCHEMA legacy;
CREATE TYPE legacy.kind AS ENUM ('a', 'b');
CREATE TABLE legacy.items (id int PRIMARY KEY, kind legacy.kind);
CREATE VIEW legacy.item_kinds AS SELECT DISTINCT kind FROM legacy.items;
CREATE TABLE public.keep (id int PRIMARY KEY);
