CREATE TABLE events (at date NOT NULL, n int) PARTITION BY RANGE (at);
CREATE TABLE events_2025 (at date NOT NULL, n int);
