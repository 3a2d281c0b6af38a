CREATE TABLE trips (id int, origin text, dest text, km int);
CREATE STATISTICS trips_route (ndistinct, dependencies) ON origin, dest FROM trips;
ALTER STATISTICS trips_route SET STATISTICS 500;
COMMENT ON STATISTICS trips_route IS 'route correlation';
