-- logtail schema, version 3: the cluster's state, read from the database (issue 10).
--
-- Many nodes write into one database; an operator (./logtail status --cluster) and the readers want
-- every node's progress in one place. Nothing here is written by the batch transaction:
--  * source_sizes: each node's worker reports, every few seconds and in a transaction of its own, the
--    size of every stream it tails (what nginx has written so far). Each node writes only its own
--    rows, so the nodes never meet on them, and the flusher never waits for the reporter (they touch
--    different tables).
--  * cluster_status: one row per node, from nodes, sources, batches and source_sizes: batches, lines,
--    last commit, committed bytes, and the lag (reported size minus committed offset) when the node
--    reports sizes; without a report (an older worker, or none yet) lag_bytes is NULL and the age of
--    the last commit is what tells a stuck node from a quiet one.

CREATE TABLE source_sizes (
    node_id     smallint    NOT NULL REFERENCES nodes,
    fingerprint bigint      NOT NULL,
    size        bigint      NOT NULL CHECK (size >= 0),
    reported_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (node_id, fingerprint)
);

CREATE VIEW cluster_status AS
WITH b AS (
    SELECT node_id, count(*)::bigint AS batches, coalesce(sum(lines), 0)::bigint AS lines,
           max(committed_at) AS last_commit_at
    FROM batches GROUP BY node_id),
s AS (
    -- a stream reported but never committed from counts its whole size; a stream not reported (new
    -- since the last report) counts nothing until the next report
    SELECT coalesce(src.node_id, z.node_id) AS node_id, count(src.source_id)::bigint AS sources,
           coalesce(sum(src.committed_offset), 0)::bigint AS committed_bytes,
           coalesce(sum(greatest(z.size - coalesce(src.committed_offset, 0), 0)), 0)::bigint AS lag_reported
    FROM sources src
    FULL JOIN source_sizes z ON z.node_id = src.node_id AND z.fingerprint = src.fingerprint
    GROUP BY 1),
r AS (
    SELECT node_id, max(reported_at) AS reported_at FROM source_sizes GROUP BY node_id)
SELECT n.name AS node,
       n.node_id,
       coalesce(b.batches, 0) AS batches,
       coalesce(b.lines, 0) AS lines,
       b.last_commit_at,
       extract(epoch FROM now() - b.last_commit_at)::double precision AS last_commit_age_s,
       coalesce(s.sources, 0) AS sources,
       coalesce(s.committed_bytes, 0) AS committed_bytes,
       -- NULL when the node has never reported sizes
       CASE WHEN r.reported_at IS NOT NULL THEN coalesce(s.lag_reported, 0) END AS lag_bytes,
       r.reported_at,
       extract(epoch FROM now() - r.reported_at)::double precision AS reported_age_s
FROM nodes n
LEFT JOIN b ON b.node_id = n.node_id
LEFT JOIN s ON s.node_id = n.node_id
LEFT JOIN r ON r.node_id = n.node_id;
