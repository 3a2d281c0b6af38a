CREATE TABLE accounts (id bigint PRIMARY KEY, balance numeric NOT NULL,
    CONSTRAINT balance_positive CHECK (balance > -100),
    CONSTRAINT only_parent CHECK (id > 0) NO INHERIT);
CREATE TABLE savings (rate numeric CHECK (rate < 1)) INHERITS (accounts);
