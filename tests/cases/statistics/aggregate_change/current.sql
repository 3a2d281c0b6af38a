CREATE AGGREGATE product(numeric) (sfunc = numeric_mul, stype = numeric, initcond = '1');
CREATE VIEW one AS SELECT product(x) FROM (VALUES (2::numeric), (3)) v(x);
