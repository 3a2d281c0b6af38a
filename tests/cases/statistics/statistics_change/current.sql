CREATE TABLE trips (id int, origin text, dest text, km int);
CREATE STATISTICS trips_route (ndistinct) ON origin, dest FROM trips;
CREATE STATISTICS trips_old (dependencies) ON origin, km FROM trips;
