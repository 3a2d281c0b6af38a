CREATE TABLE accounts (id bigint PRIMARY KEY, balance numeric NOT NULL, CONSTRAINT balance_positive CHECK (balance >= 0));
CREATE TABLE savings (rate numeric) INHERITS (accounts);
