CREATE TABLE events (
    id int PRIMARY KEY,
    created timestamptz NOT NULL, -- strata:using to_timestamp(created)
    flag boolean -- strata:using flag <> 0
);
