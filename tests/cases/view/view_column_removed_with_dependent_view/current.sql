CREATE TABLE v (id int PRIMARY KEY, model text, mileage int);
CREATE VIEW v_base AS SELECT id, model, mileage FROM v;
CREATE VIEW v_top AS SELECT model, count(*) AS n FROM v_base GROUP BY model;
