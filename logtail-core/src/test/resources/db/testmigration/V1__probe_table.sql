-- Test-only schema for io.logtail.db tests. The sleep widens the window in which a second node,
-- migrating at the same moment, must wait on Flyway's advisory lock.
SELECT pg_sleep(0.3);
CREATE TABLE probe (id int PRIMARY KEY, note text NOT NULL);
