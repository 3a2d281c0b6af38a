CREATE TABLE accounts (id bigint PRIMARY KEY);
CREATE TABLE ledger (id bigint NOT NULL, account_id bigint NOT NULL REFERENCES accounts (id), at timestamptz NOT NULL, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
CREATE TABLE ledger_2026 PARTITION OF ledger FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TABLE ledger_other PARTITION OF ledger DEFAULT;
CREATE INDEX ledger_account_idx ON ledger (account_id);
