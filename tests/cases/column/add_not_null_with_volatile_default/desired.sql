CREATE TABLE tokens (id int PRIMARY KEY, token uuid NOT NULL DEFAULT gen_random_uuid(), created_at timestamptz NOT NULL DEFAULT now());
