-- Applied twice, this would fail on the primary key: the concurrency test relies on that.
INSERT INTO probe (id, note) VALUES (1, 'migrated once');
