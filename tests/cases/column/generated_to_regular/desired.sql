CREATE TABLE dims (id int PRIMARY KEY, w numeric, h numeric, area numeric);
