package io.logtail.flush;

import io.logtail.aggregate.Batch;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes one batch as one PostgreSQL transaction: exactly once, or not at all.
 *
 * <p>Steps, all in one transaction on one connection:
 * <ol>
 *   <li>compare-and-set every source's committed offset from the batch's start to its end; a source
 *       whose offset is elsewhere aborts the batch ({@link OffsetConflictException});</li>
 *   <li>before the transaction ({@link #plan}, on the planner thread while the previous batch
 *       commits): group in memory ({@link BatchPlan}) the first vote of each (ballot, voter) and the
 *       first canvass record of each eid in the batch, the later ones classified as retransmits,
 *       duplicates or re-sends; keys this node probably committed already ({@link KeyBloom}) are
 *       looked up in the tables (those of the previous batch inside the transaction, unless the
 *       previous batch's {@link CommittedKeys} answers them from memory; the others ahead on the
 *       planner's connection) and, when found, classified against the counted row;</li>
 *   <li>fast path: binary COPY of the first rows straight into {@code votes} and
 *       {@code canvass_records}, each inside a savepoint. A unique violation (a key committed by an
 *       earlier batch or another node that the hints did not know) rolls back to the savepoint and
 *       sends that table's rows of the batch to the staging path;</li>
 *   <li>staging path (the general, exact path): binary COPY into temporary staging tables; when
 *       reference data is loaded, staged votes of unknown ballots, choices or voters move to
 *       {@code rejects} (with reference data every vote takes this path); set-based inserts {@code
 *       ON CONFLICT DO NOTHING} in log order, tallies from the rows that really went in
 *       ({@code RETURNING}), the other staged votes classified against the counted vote;</li>
 *   <li>the fast path's tallies and duplicate rows, aggregated in memory, written as
 *       a few rows (duplicates appended); binary COPY of the rejects; the batch row and its ranges;
 *       commit.</li>
 * </ol>
 * Every vote of the batch is accounted as exactly one of counted, duplicate, retransmit or reject
 * (checked). All counters a node writes are its own partial rows, so nodes never wait on each other's
 * locks.
 *
 * <p>No catalog writes in the steady state: the staging tables are created once per connection and
 * emptied by {@code ON COMMIT DELETE ROWS} (which truncates the file in place) or {@code DELETE}, never
 * by {@code TRUNCATE}, and never {@code ANALYZE}d (the planner sizes a never-analysed table from its
 * pages). A per-batch TRUNCATE or ANALYZE updates {@code pg_class} and {@code pg_statistic} with every
 * batch; with several nodes the dead catalog rows bring autovacuum to the catalogs, whose truncation
 * step takes an exclusive lock that every node's next statement waits on (the likely cause of the
 * lock waits MultiNodeIT saw once, on TRUNCATE and COPY of {@code stage_keys}).
 */
public final class BatchWriter {
  private static final Logger log = LoggerFactory.getLogger(BatchWriter.class);
  private static final byte[] NO_RAW = "(raw line not kept: reference data was loaded while this batch was built)"
      .getBytes(StandardCharsets.US_ASCII);
  private static final String UNIQUE_VIOLATION = "23505";
  /**
   * Hint filters: 8 MiB for vote keys (about 6.7M keys before it is cleared: duplicates may come from
   * any time in the election) and 4 MiB for canvass eids (3.3M; re-sends come soon after the record).
   */
  static final int VOTE_HINT_BYTES_LOG2 = 23;
  static final int CANVASS_HINT_BYTES_LOG2 = 22;

  private static final String CREATE_STAGING = """
      CREATE TEMP TABLE IF NOT EXISTS stage_votes (
        ballot_id int4, voter bytea, choice text, eid text, voted_at timestamptz, node_id int2,
        source_id int4, line_offset int8, raw bytea, seq bigserial) ON COMMIT DELETE ROWS;
      CREATE TEMP TABLE IF NOT EXISTS stage_canvass (
        eid text, kind text, dwelling text, canvasser text, lat_e7 int4, lon_e7 int4,
        cell_lat int4, cell_lon int4, issue text, stance text, request text, recorded_at timestamptz,
        node_id int2, source_id int4, line_offset int8, seq bigserial) ON COMMIT DELETE ROWS;
      CREATE TEMP TABLE IF NOT EXISTS stage_keys (i int4, ballot_id int4, voter bytea) ON COMMIT DELETE ROWS;
      CREATE TEMP TABLE IF NOT EXISTS stage_tally (ballot_id int4, choice text, votes int8)
        ON COMMIT DELETE ROWS;
      """;

  private static final String COPY_STAGE_VOTES = "COPY stage_votes (ballot_id, voter, choice, eid, voted_at,"
      + " node_id, source_id, line_offset) FROM STDIN (FORMAT binary)";
  private static final String COPY_STAGE_VOTES_RAW = "COPY stage_votes (ballot_id, voter, choice, eid, voted_at,"
      + " node_id, source_id, line_offset, raw) FROM STDIN (FORMAT binary)";
  private static final String COPY_STAGE_CANVASS = "COPY stage_canvass (eid, kind, dwelling, canvasser, lat_e7,"
      + " lon_e7, cell_lat, cell_lon, issue, stance, request, recorded_at, node_id, source_id, line_offset)"
      + " FROM STDIN (FORMAT binary)";
  private static final String COPY_VOTES = "COPY votes (ballot_id, voter, choice, eid, voted_at, node_id,"
      + " source_id, line_offset) FROM STDIN (FORMAT binary)";
  private static final String COPY_CANVASS = "COPY canvass_records (eid, kind, dwelling, canvasser, lat_e7,"
      + " lon_e7, cell_lat, cell_lon, issue, stance, request, recorded_at, node_id, source_id, line_offset)"
      + " FROM STDIN (FORMAT binary)";

  private static final String UPSERT_TALLIES = """
      INSERT INTO vote_tally_parts AS t (node_id, ballot_id, choice, votes)
      SELECT ?, ballot_id, choice, votes FROM stage_tally
      ON CONFLICT (node_id, ballot_id, choice) DO UPDATE SET votes = t.votes + EXCLUDED.votes""";

  private static final String CAS_OFFSET = """
      UPDATE sources SET committed_offset = ?, last_batch_id = ?, path = ?, device = ?, inode = ?,
             updated_at = now()
      WHERE source_id = ? AND node_id = ? AND committed_offset = ?""";

  private static final String REFERENCE_FLAGS =
      "SELECT EXISTS (SELECT 1 FROM ballots), EXISTS (SELECT 1 FROM voter_roll_scopes)";

  private static final String REJECT_UNKNOWN_BALLOT = """
      WITH bad AS (
        DELETE FROM stage_votes s USING ballot_keys k
        WHERE k.ballot_id = s.ballot_id AND NOT EXISTS (SELECT 1 FROM ballots b WHERE b.ballot = k.ballot)
        RETURNING s.source_id, s.line_offset, s.raw, s.voted_at)
      INSERT INTO rejects (node_id, source_id, line_offset, reason, raw, logged_at)
      SELECT ?, source_id, line_offset, 'unknown_ballot', coalesce(raw, ?), voted_at FROM bad""";

  private static final String REJECT_UNKNOWN_CHOICE = """
      WITH bad AS (
        DELETE FROM stage_votes s USING ballot_keys k, ballots b
        WHERE k.ballot_id = s.ballot_id AND b.ballot = k.ballot AND NOT (s.choice = ANY (b.choices))
        RETURNING s.source_id, s.line_offset, s.raw, s.voted_at)
      INSERT INTO rejects (node_id, source_id, line_offset, reason, raw, logged_at)
      SELECT ?, source_id, line_offset, 'unknown_choice', coalesce(raw, ?), voted_at FROM bad""";

  private static final String REJECT_UNKNOWN_VOTER = """
      WITH bad AS (
        DELETE FROM stage_votes s USING ballot_keys k
        WHERE k.ballot_id = s.ballot_id
          AND EXISTS (SELECT 1 FROM voter_roll_scopes rs WHERE rs.scope IN ('*', k.ballot))
          AND NOT EXISTS (SELECT 1 FROM voter_roll r WHERE r.voter = s.voter AND r.scope IN ('*', k.ballot))
        RETURNING s.source_id, s.line_offset, s.raw, s.voted_at)
      INSERT INTO rejects (node_id, source_id, line_offset, reason, raw, logged_at)
      SELECT ?, source_id, line_offset, 'unknown_voter', coalesce(raw, ?), voted_at FROM bad""";

  private static final String INSERT_VOTES = """
      WITH cand AS (
        SELECT DISTINCT ON (ballot_id, voter) * FROM stage_votes ORDER BY ballot_id, voter, seq),
      ins AS (
        INSERT INTO votes (ballot_id, voter, choice, eid, voted_at, node_id, source_id, line_offset)
        SELECT ballot_id, voter, choice, eid, voted_at, ?, source_id, line_offset FROM cand
        ON CONFLICT (ballot_id, voter) DO NOTHING
        RETURNING ballot_id, choice),
      tally AS (
        INSERT INTO vote_tally_parts AS t (node_id, ballot_id, choice, votes)
        SELECT ?, ballot_id, choice, count(*) FROM ins GROUP BY ballot_id, choice
        ON CONFLICT (node_id, ballot_id, choice) DO UPDATE SET votes = t.votes + EXCLUDED.votes)
      SELECT count(*) FROM ins""";

  private static final String CLASSIFY_LATER_VOTES = """
      WITH later AS (
        SELECT s.ballot_id, s.voter, s.voted_at, (s.eid IS NOT NULL AND s.eid = v.eid) AS retransmit
        FROM stage_votes s JOIN votes v USING (ballot_id, voter)
        WHERE NOT (v.node_id = ? AND v.source_id = s.source_id AND v.line_offset = s.line_offset)),
      dup AS (
        INSERT INTO vote_duplicate_rows (ballot_id, voter, attempts, first_seen, last_seen)
        SELECT ballot_id, voter, count(*), min(voted_at), max(voted_at) FROM later WHERE NOT retransmit
        GROUP BY ballot_id, voter)
      SELECT count(*) FILTER (WHERE NOT retransmit), count(*) FILTER (WHERE retransmit) FROM later""";

  private static final String INSERT_CANVASS = """
      WITH cand AS (
        SELECT DISTINCT ON (eid) * FROM stage_canvass ORDER BY eid, seq)
      INSERT INTO canvass_records (eid, kind, dwelling, canvasser, lat_e7, lon_e7, cell_lat, cell_lon,
                                   issue, stance, request, recorded_at, node_id, source_id, line_offset)
      SELECT eid, kind, dwelling, canvasser, lat_e7, lon_e7, cell_lat, cell_lon, issue, stance, request,
             recorded_at, node_id, source_id, line_offset FROM cand
      ON CONFLICT (eid) DO NOTHING""";

  /**
   * Hinted vote keys (COPYed into stage_keys in index order) that are in votes, with the counted
   * vote's eid: one index probe per key (LIMIT 1 keeps the planner on the index).
   */
  private static final String LOOKUP_VOTES = """
      SELECT k.i, v.eid FROM stage_keys k
      CROSS JOIN LATERAL (SELECT v.eid FROM votes v WHERE v.ballot_id = k.ballot_id AND v.voter = k.voter
                          LIMIT 1) v""";

  /** Hinted canvass eids that are in canvass_records. */
  private static final String LOOKUP_CANVASS = """
      SELECT k.i
      FROM unnest(?::text[]) WITH ORDINALITY AS k(eid, i)
      CROSS JOIN LATERAL (SELECT 1 FROM canvass_records c WHERE c.eid = k.eid LIMIT 1) c""";

  private static final String INSERT_BATCH = """
      INSERT INTO batches (node_id, batch_id, lines, votes, duplicates, retransmits, canvass, resends,
                           rejects, skipped)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""";

  private static final String INSERT_RANGE =
      "INSERT INTO batch_ranges (node_id, batch_id, source_id, start_offset, end_offset) VALUES (?, ?, ?, ?, ?)";

  private static final byte[] TRAILER = {(byte) 0xff, (byte) 0xff};

  private final int nodeId;
  /** Keys of the last batch grouped (maybe not committed yet), and spare sets for the next one's. */
  private KeyHints prevVotes = new KeyHints(12);
  private KeyHints prevCanvass = new KeyHints(12);
  private KeyHints spareVotes = new KeyHints(12);
  private KeyHints spareCanvass = new KeyHints(12);
  private final CopyBuffer lookupKeys = new CopyBuffer(1 << 16);
  private final KeyBloom voteHints;
  private final KeyBloom canvassHints;
  private final CopyBuffer aggregates = new CopyBuffer(1 << 16);
  private long voteFallbacks;
  private long canvassFallbacks;
  /** Batches grouped so far (the planning sequence number of the last one). */
  private long planned;
  /** The exact keys of the batch committed last ({@link CommittedKeys}), and a spare for the next. */
  private CommittedKeys lastCommitted = new CommittedKeys();
  private CommittedKeys nextCommitted = new CommittedKeys();
  private long keysFromLastBatch;

  public BatchWriter(int nodeId) {
    this(nodeId, new KeyBloom(VOTE_HINT_BYTES_LOG2), new KeyBloom(CANVASS_HINT_BYTES_LOG2));
  }

  /** With the given hint sets (tests use small or shared ones). */
  public BatchWriter(int nodeId, KeyBloom voteHints, KeyBloom canvassHints) {
    this.nodeId = nodeId;
    this.voteHints = voteHints;
    this.canvassHints = canvassHints;
  }

  /** Prepares a fresh connection: staging tables, no autocommit. */
  public void prepare(Connection c) throws SQLException {
    c.setAutoCommit(true);
    try (Statement st = c.createStatement()) {
      st.execute(CREATE_STAGING);
    }
    c.setAutoCommit(false);
  }

  /**
   * Writes and commits the batch. On any exception the transaction is rolled back (nothing of the
   * batch counts) and the caller may retry the same batch.
   */
  public BatchResult write(Connection c, Batch batch, long batchId) throws SQLException {
    long t0 = System.nanoTime();
    try {
      casOffsets(c, batch, batchId);
      long tCas = System.nanoTime();

      boolean ballots = false;
      boolean roll = false;
      if (batch.votes() > 0) {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(REFERENCE_FLAGS)) {
          rs.next();
          ballots = rs.getBoolean(1);
          roll = rs.getBoolean(2);
        }
      }
      BatchPlan plan = (BatchPlan) batch.attachment();
      if (plan == null || !plan.readyFor(batch)) {
        plan(null, batch);
        plan = (BatchPlan) batch.attachment();
      }
      long tGroup = System.nanoTime();
      // keys of the batch committed just before this one: answered from memory, exactly
      int fromLast = 0;
      if (lastCommitted.seq >= 0 && lastCommitted.seq == plan.seq - 1) {
        fromLast = plan.resolveDeferred(lastCommitted);
      }
      if (batch.voteRaw() || ballots || roll) {
        plan.fallbackVotes();
      } else {
        if (plan.nHintedVotes > 0) {
          lookupVotes(c, plan, true);
        }
        plan.resolveVotes();
      }
      if (plan.nHintedCanvass > 0) {
        lookupCanvass(c, plan, true);
      }
      plan.resolveCanvass();
      long tPlan = System.nanoTime();

      // fast path: the first rows straight into the tables, each table in a savepoint
      if (plan.fastVotes > 0 && !copyFast(c, "fast_votes", COPY_VOTES, plan.vb, plan.vRow, plan.vRoute, plan.nv,
          plan.fastVotes)) {
        plan.fallbackVotes();
        voteFallbacks++;
        log.debug("batch {}: a vote key was already committed; votes take the staging path", batchId);
      }
      if (plan.fastCanvass > 0 && !copyFast(c, "fast_canvass", COPY_CANVASS, plan.cb, plan.cRow, plan.cRoute,
          plan.nc, plan.fastCanvass)) {
        plan.fallbackCanvass();
        canvassFallbacks++;
        log.debug("batch {}: a canvass eid was already committed; canvass records take the staging path", batchId);
      }
      long tFast = System.nanoTime();

      // staging path: rows of hinted keys, of a table that fell back, or all votes with reference data
      int votes = plan.fastVotes;
      int duplicates = plan.duplicates;
      int retransmits = plan.retransmits;
      int referenceRejects = 0;
      if (plan.stagedVotes > 0) {
        copyRows(c, batch.voteRaw() ? COPY_STAGE_VOTES_RAW : COPY_STAGE_VOTES, plan.vb, plan.vRow, plan.vRoute,
            plan.nv, BatchPlan.STAGED, plan.stagedVotes);
        if (ballots) {
          referenceRejects += update(c, REJECT_UNKNOWN_BALLOT);
          referenceRejects += update(c, REJECT_UNKNOWN_CHOICE);
        }
        if (roll) {
          referenceRejects += update(c, REJECT_UNKNOWN_VOTER);
        }
        if (plan.stagedVotes > referenceRejects) {
          votes += (int) queryLong(c, INSERT_VOTES, nodeId, nodeId);
          try (PreparedStatement ps = c.prepareStatement(CLASSIFY_LATER_VOTES)) {
            ps.setInt(1, nodeId);
            try (ResultSet rs = ps.executeQuery()) {
              rs.next();
              duplicates += rs.getInt(1);
              retransmits += rs.getInt(2);
            }
          }
        }
      }
      if (votes + duplicates + retransmits + referenceRejects != batch.votes()) {
        throw new IllegalStateException("vote accounting broken in batch " + batchId + ": " + votes
            + " counted + " + duplicates + " duplicates + " + retransmits + " retransmits + "
            + referenceRejects + " rejected != " + batch.votes() + " staged");
      }
      int canvass = plan.fastCanvass;
      if (plan.stagedCanvass > 0) {
        copyRows(c, COPY_STAGE_CANVASS, plan.cb, plan.cRow, plan.cRoute, plan.nc, BatchPlan.STAGED,
            plan.stagedCanvass);
        try (Statement st = c.createStatement()) {
          canvass += st.executeUpdate(INSERT_CANVASS);
        }
      }
      int resends = batch.canvass() - canvass;
      if (resends < 0 || (plan.stagedCanvass == 0 && resends != plan.resends)) {
        throw new IllegalStateException("canvass accounting broken in batch " + batchId + ": " + canvass
            + " inserted of " + batch.canvass() + " (" + plan.resends + " re-sends in the batch)");
      }
      long tStaged = System.nanoTime();

      // the fast path's aggregates: tallies upserted as a few rows, duplicate rows appended
      aggregates.reset();
      int n = plan.writeTallies(aggregates);
      if (n > 0) {
        copyAggregate(c, "COPY stage_tally FROM STDIN (FORMAT binary)", n);
        try (PreparedStatement ps = c.prepareStatement(UPSERT_TALLIES)) {
          ps.setInt(1, nodeId);
          ps.executeUpdate();
        }
      }
      aggregates.reset();
      int d = plan.writeDuplicates(aggregates);
      copyAggregate(c, "COPY vote_duplicate_rows (ballot_id, voter, attempts, first_seen, last_seen)"
          + " FROM STDIN (FORMAT binary)", d);
      long tAggregates = System.nanoTime();

      copy(c, "COPY rejects (node_id, source_id, line_offset, reason, raw, logged_at) FROM STDIN (FORMAT binary)",
          batch.rejectRows().array(), batch.rejectRows().length(), batch.rejects());

      int rejects = batch.rejects() + referenceRejects;
      try (PreparedStatement ps = c.prepareStatement(INSERT_BATCH)) {
        ps.setInt(1, nodeId);
        ps.setLong(2, batchId);
        ps.setInt(3, batch.lines());
        ps.setInt(4, votes);
        ps.setInt(5, duplicates);
        ps.setInt(6, retransmits);
        ps.setInt(7, canvass);
        ps.setInt(8, resends);
        ps.setInt(9, rejects);
        ps.setInt(10, batch.skipped());
        ps.executeUpdate();
      }
      try (PreparedStatement ps = c.prepareStatement(INSERT_RANGE)) {
        for (Batch.Range r : batch.ranges()) {
          ps.setInt(1, nodeId);
          ps.setLong(2, batchId);
          ps.setInt(3, r.sourceId);
          ps.setLong(4, r.start);
          ps.setLong(5, r.end());
          ps.addBatch();
        }
        ps.executeBatch();
      }
      plan.record(nextCommitted);
      long tRest = System.nanoTime();
      c.commit();
      long tCommit = System.nanoTime();
      CommittedKeys k = lastCommitted;
      lastCommitted = nextCommitted;
      nextCommitted = k;
      keysFromLastBatch += fromLast;
      plan.ready = false;
      if (log.isDebugEnabled()) {
        log.debug("batch {}: {} lines; votes {} fast + {} staged, canvass {} fast + {} staged; cas {} ms,"
            + " plan {} ms, lookup in txn {} ms ({} + {} hinted keys, {} answered by the previous batch), fast COPY {} ms, staging path {} ms, aggregates {} ms"
            + " ({} tallies, {} duplicate keys), rejects+batch {} ms, commit {} ms; hints {} votes, {} eids",
            batchId, batch.lines(), plan.fastVotes, plan.stagedVotes, plan.fastCanvass, plan.stagedCanvass,
            ms(tCas - t0), ms(tGroup - tCas), ms(tPlan - tGroup), plan.nHintedVotes, plan.nHintedCanvass, fromLast, ms(tFast - tPlan),
            ms(tStaged - tFast), ms(tAggregates - tStaged), n, d, ms(tRest - tAggregates), ms(tCommit - tRest), voteHints.size(), canvassHints.size());
      }
      long commitMicros = System.currentTimeMillis() * 1000L;
      return new BatchResult(batchId, batch.ranges(), batch.lines(), votes, duplicates, retransmits,
          canvass, resends, rejects, batch.skipped(), commitMicros, System.nanoTime() - t0);
    } catch (SQLException | RuntimeException e) {
      try {
        c.rollback();
      } catch (SQLException re) {
        e.addSuppressed(re);
      }
      throw e;
    }
  }

  /**
   * Plans the batch ahead of {@link #write}: groups its rows by key, and looks up on {@code lookup}
   * (a connection of its own, or null) the hinted keys of batches before the previous one, which are
   * committed by now. Called in batch order, for every batch, before its write; from one thread (the
   * planner) while the flusher writes the previous batch. Keys of the previous batch are looked up by
   * {@link #write} inside the transaction, after that batch committed. Every key of the batch is added
   * to the hints here: if the batch is not committed in the end, a hint only costs a lookup.
   *
   * @return false when the lookup connection failed (every key is then looked up by the write)
   */
  public boolean plan(Connection lookup, Batch batch) {
    BatchPlan plan = (BatchPlan) batch.attachment();
    if (plan == null) {
      plan = new BatchPlan();
      batch.attach(plan);
    }
    if (plan.readyFor(batch)) {
      return true; // planned before a failed attempt: the lookups still hold (rows are never deleted)
    }
    synchronized (this) {
      plan.seq = ++planned;
      KeyHints nextVotes = sized(spareVotes, batch.votes());
      KeyHints nextCanvass = sized(spareCanvass, batch.canvass());
      plan.group(batch, voteHints, canvassHints, prevVotes, prevCanvass, nextVotes, nextCanvass);
      spareVotes = prevVotes;
      spareCanvass = prevCanvass;
      prevVotes = nextVotes;
      prevCanvass = nextCanvass;
    }
    boolean ok = true;
    if (lookup == null) {
      plan.deferAll(); // no connection of its own: the write looks every hinted key up in its transaction
    } else {
      try {
        if (plan.nHintedVotes > 0 && !batch.voteRaw()) {
          lookupVotes(lookup, plan, false);
        }
        if (plan.nHintedCanvass > 0) {
          lookupCanvass(lookup, plan, false);
        }
        lookup.commit();
      } catch (SQLException | RuntimeException e) {
        log.debug("lookup ahead failed ({}); the batch's write looks its keys up", e.toString());
        try {
          lookup.rollback();
        } catch (SQLException re) {
          // the connection is discarded by the caller
        }
        plan.forgetLookups();
        plan.deferAll();
        ok = false;
      }
    }
    plan.generation = batch.generation();
    plan.ready = true;
    return ok;
  }

  /** A set that holds {@code keys} keys without clearing. */
  private static KeyHints sized(KeyHints h, int keys) {
    int log2 = 32 - Integer.numberOfLeadingZeros(Math.max(16, keys * 2) - 1);
    return h.capacityLog2() >= log2 ? h : new KeyHints(Math.min(log2, 28));
  }

  /** Batches whose votes (canvass records) fell back from the fast path to the staging path. */
  public long voteFallbacks() {
    return voteFallbacks;
  }

  public long canvassFallbacks() {
    return canvassFallbacks;
  }

  /** Keys of a batch answered from the previous batch's committed keys instead of a lookup in its transaction. */
  public long keysFromLastBatch() {
    return keysFromLastBatch;
  }

  /**
   * COPYs the rows routed {@link BatchPlan#FIRST} into a final table inside a savepoint. Returns false,
   * rolled back to the savepoint, when a key is already in the table (unique violation).
   */
  private static boolean copyFast(Connection c, String savepoint, String sql, byte[] buf, int[] rowStart,
      byte[] route, int rows, int expected) throws SQLException {
    try (Statement st = c.createStatement()) {
      st.execute("SAVEPOINT " + savepoint);
      try {
        copyRows(c, sql, buf, rowStart, route, rows, BatchPlan.FIRST, expected);
      } catch (SQLException e) {
        if (!UNIQUE_VIOLATION.equals(e.getSQLState())) {
          throw e;
        }
        st.execute("ROLLBACK TO SAVEPOINT " + savepoint);
        return false;
      }
      st.execute("RELEASE SAVEPOINT " + savepoint);
      return true;
    }
  }

  /** COPYs the rows of {@code buf} whose route is {@code which}, as runs of the buffer's bytes. */
  private static void copyRows(Connection c, String sql, byte[] buf, int[] rowStart, byte[] route, int rows,
      byte which, int expected) throws SQLException {
    CopyIn in = c.unwrap(PGConnection.class).getCopyAPI().copyIn(sql);
    try {
      in.writeToCopy(buf, 0, BatchPlan.HEADER_BYTES);
      int i = 0;
      while (i < rows) {
        if (route[i] != which) {
          i++;
          continue;
        }
        int j = i + 1;
        while (j < rows && route[j] == which) {
          j++;
        }
        in.writeToCopy(buf, rowStart[i], rowStart[j] - rowStart[i]);
        i = j;
      }
      in.writeToCopy(TRAILER, 0, 2);
      long n = in.endCopy();
      if (n != expected) {
        throw new SQLException("COPY wrote " + n + " rows, expected " + expected + ": " + sql);
      }
    } finally {
      if (in.isActive()) {
        in.cancelCopy();
      }
    }
  }

  /** Looks up the hinted vote keys that are (not) deferred; {@code c} is in a transaction. */
  private void lookupVotes(Connection c, BatchPlan plan, boolean deferred) throws SQLException {
    CopyBuffer keys = deferred ? aggregates : lookupKeys;
    keys.reset();
    int n = plan.writeHintedVoteKeys(keys, deferred);
    if (n == 0) {
      return;
    }
    keys.finish();
    copy(c, "COPY stage_keys FROM STDIN (FORMAT binary)", keys.array(), keys.length(), n);
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(LOOKUP_VOTES)) {
      while (rs.next()) {
        int k = rs.getInt(1);
        String eid = rs.getString(2);
        plan.voteExists(k, eid == null ? null : eid.getBytes(StandardCharsets.UTF_8));
      }
    }
    try (Statement st = c.createStatement()) {
      // DELETE, not TRUNCATE: a TRUNCATE gives the table a new file and updates pg_class, once per
      // batch; the steady state must not write the catalogs (see the class comment)
      st.execute("DELETE FROM stage_keys");
    }
  }

  private void lookupCanvass(Connection c, BatchPlan plan, boolean deferred) throws SQLException {
    List<String> eids = new ArrayList<>();
    List<Integer> ks = new ArrayList<>();
    for (int k = 0; k < plan.nHintedCanvass; k++) {
      if (plan.canvassToLookUp(k, deferred)) {
        eids.add(plan.hintedEid(k));
        ks.add(k);
      }
    }
    if (eids.isEmpty()) {
      return;
    }
    try (PreparedStatement ps = c.prepareStatement(LOOKUP_CANVASS)) {
      ps.setArray(1, c.createArrayOf("text", eids.toArray()));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          plan.canvassExists(ks.get((int) rs.getLong(1) - 1));
        }
      }
    }
  }

  private void copyAggregate(Connection c, String sql, int rows) throws SQLException {
    if (rows > 0) {
      aggregates.finish();
      copy(c, sql, aggregates.array(), aggregates.length(), rows);
    }
  }

  private static long ms(long nanos) {
    return nanos / 1_000_000;
  }

  /**
   * Whether batch {@code batchId} is already committed, exactly as {@code batch}: the attempt whose
   * COMMIT reply was lost (the server went down after the commit was durable, before the client heard
   * of it) did commit. Then its result, from the {@code batches} row, for the listeners (binlog,
   * status); null when the database has no such batch. Throws when it has one with other byte ranges
   * (another worker with this node id, or a restored database).
   */
  public BatchResult committedEarlier(Connection c, Batch batch, long batchId) throws SQLException {
    try {
      return findCommitted(c, batch, batchId);
    } finally {
      c.rollback(); // only reads: end the transaction they opened
    }
  }

  private BatchResult findCommitted(Connection c, Batch batch, long batchId) throws SQLException {
    BatchResult result = null;
    try (PreparedStatement ps = c.prepareStatement("""
        SELECT lines, votes, duplicates, retransmits, canvass, resends, rejects, skipped,
               (extract(epoch FROM committed_at) * 1000000)::bigint
        FROM batches WHERE node_id = ? AND batch_id = ?""")) {
      ps.setInt(1, nodeId);
      ps.setLong(2, batchId);
      try (ResultSet rs = ps.executeQuery()) {
        if (rs.next()) {
          result = new BatchResult(batchId, batch.ranges(), rs.getInt(1), rs.getInt(2), rs.getInt(3), rs.getInt(4),
              rs.getInt(5), rs.getInt(6), rs.getInt(7), rs.getInt(8), rs.getLong(9), 0);
        }
      }
    }
    if (result == null) {
      return null;
    }
    java.util.Set<String> inDb = new java.util.HashSet<>();
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT source_id, start_offset, end_offset FROM batch_ranges WHERE node_id = ? AND batch_id = ?")) {
      ps.setInt(1, nodeId);
      ps.setLong(2, batchId);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          inDb.add(rs.getInt(1) + ":" + rs.getLong(2) + "-" + rs.getLong(3));
        }
      }
    }
    java.util.Set<String> mine = new java.util.HashSet<>();
    for (Batch.Range r : batch.ranges()) {
      mine.add(r.sourceId + ":" + r.start + "-" + r.end());
    }
    if (!inDb.equals(mine) || result.lines() != batch.lines()) {
      throw new OffsetConflictException("batch " + batchId + " of this node is in the database with other byte"
          + " ranges (" + inDb + ", this worker's: " + mine + "): another worker with this node id wrote it, or"
          + " the database was restored; restart the worker to resume from the database's offsets");
    }
    return result;
  }

  private void casOffsets(Connection c, Batch batch, long batchId) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(CAS_OFFSET)) {
      for (Batch.Range r : batch.ranges()) {
        ps.setLong(1, r.end());
        ps.setLong(2, batchId);
        ps.setString(3, r.source().path().toString());
        ps.setLong(4, r.source().device());
        ps.setLong(5, r.source().inode());
        ps.setInt(6, r.sourceId);
        ps.setInt(7, nodeId);
        ps.setLong(8, r.start);
        if (ps.executeUpdate() != 1) {
          throw new OffsetConflictException("committed offset of source " + r.source() + " (id "
              + r.sourceId + ") is not " + r.start + " in the database: another worker with this node id"
              + " wrote it, or the database was restored; restart the worker to resume from the"
              + " database's offsets");
        }
      }
    }
  }

  private int update(Connection c, String sql) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setInt(1, nodeId);
      ps.setBytes(2, NO_RAW);
      return ps.executeUpdate();
    }
  }

  private static long queryLong(Connection c, String sql, int a, int b) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setInt(1, a);
      ps.setInt(2, b);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  private static void copy(Connection c, String sql, byte[] data, int len, int rows) throws SQLException {
    if (rows == 0) {
      return;
    }
    CopyIn in = c.unwrap(PGConnection.class).getCopyAPI().copyIn(sql);
    try {
      in.writeToCopy(data, 0, len);
      long n = in.endCopy();
      if (n != rows) {
        throw new SQLException("COPY wrote " + n + " rows, expected " + rows + ": " + sql);
      }
    } finally {
      if (in.isActive()) {
        in.cancelCopy();
      }
    }
  }

}
