-- logtail read database over N shard databases (docs/scale-out.md, "N nodes -> N databases").
--
-- Layout: the balancer (systemd/nginx-balancer.conf) routes every beacon of a voter, and every re-send
-- of a canvass record, to one node; each node (or group of nodes) writes into its own PostgreSQL, the
-- shard, with the ordinary logtail schema. Voters and eids are then disjoint across shards by
-- construction, so the election's results are plain sums over the shards. This script makes a
-- separate "read" database that shows those sums through postgres_fdw, for readers and the results
-- publisher; it never writes to a shard, and the shards know nothing of it.
--
-- Use (as a superuser of the read database, or a user allowed to CREATE EXTENSION postgres_fdw):
--   psql -d readdb -f read-db.sql
--   SELECT logtail_add_shard('a', 'db-a.example.org', 5432, 'logtail', 'reader', 'secret');
--   SELECT logtail_add_shard('b', 'db-b.example.org', 5432, 'logtail', 'reader', 'secret');
--   SELECT logtail_refresh_read_views();      -- after adding or dropping shards
--   SELECT * FROM vote_tallies;               -- the whole election
-- Each shard's tables and views are foreign tables in a schema shard_<name>; the views in this
-- database's public schema are UNION ALLs over the shards:
--   vote_tallies (ballot, choice, votes)          sum over the shards' vote_tallies (aggregated there)
--   vote_duplicates (ballot, voter, attempts, ..)  the shards' rows (a voter is on one shard)
--   canvass_localities (cell, kind, .., records)   sum over the shards' canvass_localities
--   votes, canvass_records, rejects, rejects_by_file, vote_duplicate_rows, batches
--                                                  the shards' rows, with a column shard (votes and
--                                                  vote_duplicate_rows also with the ballot's name:
--                                                  ballot_id is each shard's own)
--   cluster_status                                 every node of every shard, with a column shard
-- Re-running this script is safe (CREATE OR REPLACE); so is logtail_add_shard for a known name
-- (it re-imports that shard's schema, e.g. after a logtail upgrade added a view).

CREATE EXTENSION IF NOT EXISTS postgres_fdw;

CREATE TABLE IF NOT EXISTS logtail_shards (
    shard    text PRIMARY KEY CHECK (shard ~ '^[a-z0-9_]{1,40}$'),
    host     text NOT NULL,
    port     integer NOT NULL,
    dbname   text NOT NULL,
    added_at timestamptz NOT NULL DEFAULT now()
);

-- The tables and views of a shard that the read views use.
CREATE OR REPLACE FUNCTION logtail_shard_relations() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
  SELECT ARRAY['vote_tallies', 'vote_duplicates', 'canvass_localities', 'votes', 'canvass_records',
               'rejects', 'rejects_by_file', 'cluster_status', 'ballot_keys', 'vote_duplicate_rows', 'batches']
$$;

CREATE OR REPLACE FUNCTION logtail_add_shard(p_shard text, p_host text, p_port integer, p_dbname text,
                                             p_user text, p_password text DEFAULT NULL)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  srv text := 'logtail_shard_' || p_shard;
  sch text := 'shard_' || p_shard;
  opts text;
BEGIN
  IF p_shard !~ '^[a-z0-9_]{1,40}$' THEN
    RAISE EXCEPTION 'shard name % must be 1 to 40 of a-z, 0-9, _', p_shard;
  END IF;
  EXECUTE format('DROP SCHEMA IF EXISTS %I CASCADE', sch);
  EXECUTE format('DROP SERVER IF EXISTS %I CASCADE', srv);
  EXECUTE format('CREATE SERVER %I FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host %L, port %L, dbname %L,'
                 || ' fetch_size ''10000'', application_name ''logtail-read-db'')', srv, p_host, p_port::text, p_dbname);
  opts := format('user %L', p_user);
  IF p_password IS NOT NULL THEN
    opts := opts || format(', password %L', p_password);
  END IF;
  EXECUTE format('CREATE USER MAPPING FOR CURRENT_USER SERVER %I OPTIONS (%s)', srv, opts);
  EXECUTE format('CREATE SCHEMA %I', sch);
  EXECUTE format('IMPORT FOREIGN SCHEMA public LIMIT TO (%s) FROM SERVER %I INTO %I',
                 (SELECT string_agg(quote_ident(r), ', ') FROM unnest(logtail_shard_relations()) r), srv, sch);
  INSERT INTO logtail_shards (shard, host, port, dbname) VALUES (p_shard, p_host, p_port, p_dbname)
  ON CONFLICT (shard) DO UPDATE SET host = EXCLUDED.host, port = EXCLUDED.port, dbname = EXCLUDED.dbname,
                                    added_at = now();
END $$;

CREATE OR REPLACE FUNCTION logtail_drop_shard(p_shard text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('DROP SCHEMA IF EXISTS %I CASCADE', 'shard_' || p_shard);
  EXECUTE format('DROP SERVER IF EXISTS %I CASCADE', 'logtail_shard_' || p_shard);
  DELETE FROM logtail_shards WHERE shard = p_shard;
END $$;

-- (Re)creates the union views over every shard in logtail_shards.
CREATE OR REPLACE FUNCTION logtail_refresh_read_views() RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  n integer;
  u_tallies text; u_dups text; u_cells text; u_votes text; u_canvass text; u_rejects text; u_status text;
  u_rej text; u_duprows text; u_batches text;
BEGIN
  SELECT count(*),
         string_agg(format('SELECT ballot, choice, votes FROM %I.vote_tallies', 'shard_' || shard), ' UNION ALL '),
         string_agg(format('SELECT %L::text AS shard, ballot, voter, attempts, first_seen, last_seen FROM %I.vote_duplicates',
                           shard, 'shard_' || shard), ' UNION ALL '),
         string_agg(format('SELECT cell_lat, cell_lon, kind, issue, stance, records FROM %I.canvass_localities',
                           'shard_' || shard), ' UNION ALL '),
         string_agg(format('SELECT %L::text AS shard, k.ballot, v.* FROM %I.votes v JOIN %I.ballot_keys k USING (ballot_id)',
                           shard, 'shard_' || shard, 'shard_' || shard), ' UNION ALL '),
         string_agg(format('SELECT %L::text AS shard, c.* FROM %I.canvass_records c', shard, 'shard_' || shard), ' UNION ALL '),
         string_agg(format('SELECT %L::text AS shard, r.* FROM %I.rejects_by_file r', shard, 'shard_' || shard), ' UNION ALL '),
         string_agg(format('SELECT %L::text AS shard, s.* FROM %I.cluster_status s', shard, 'shard_' || shard), ' UNION ALL '),
         string_agg(format('SELECT %L::text AS shard, r.* FROM %I.rejects r', shard, 'shard_' || shard), ' UNION ALL '),
         string_agg(format('SELECT %L::text AS shard, k.ballot, d.* FROM %I.vote_duplicate_rows d JOIN %I.ballot_keys k'
                           || ' USING (ballot_id)', shard, 'shard_' || shard, 'shard_' || shard), ' UNION ALL '),
         string_agg(format('SELECT %L::text AS shard, b.* FROM %I.batches b', shard, 'shard_' || shard), ' UNION ALL ')
    INTO n, u_tallies, u_dups, u_cells, u_votes, u_canvass, u_rejects, u_status, u_rej, u_duprows, u_batches
    FROM (SELECT shard FROM logtail_shards ORDER BY shard) s;
  DROP VIEW IF EXISTS vote_tallies, vote_duplicates, canvass_localities, votes, canvass_records, rejects_by_file,
                      cluster_status, rejects, vote_duplicate_rows, batches;
  IF n = 0 THEN
    RETURN 0;
  END IF;
  EXECUTE 'CREATE VIEW vote_tallies AS SELECT ballot, choice, sum(votes)::bigint AS votes FROM ('
          || u_tallies || ') t GROUP BY ballot, choice';
  EXECUTE 'CREATE VIEW vote_duplicates AS ' || u_dups;
  EXECUTE 'CREATE VIEW canvass_localities AS SELECT cell_lat, cell_lon, kind, issue, stance,'
          || ' sum(records)::bigint AS records FROM (' || u_cells || ') c GROUP BY cell_lat, cell_lon, kind, issue, stance';
  EXECUTE 'CREATE VIEW votes AS ' || u_votes;
  EXECUTE 'CREATE VIEW canvass_records AS ' || u_canvass;
  EXECUTE 'CREATE VIEW rejects_by_file AS ' || u_rejects;
  EXECUTE 'CREATE VIEW cluster_status AS ' || u_status;
  EXECUTE 'CREATE VIEW rejects AS ' || u_rej;
  EXECUTE 'CREATE VIEW vote_duplicate_rows AS ' || u_duprows;
  EXECUTE 'CREATE VIEW batches AS ' || u_batches;
  RETURN n;
END $$;
