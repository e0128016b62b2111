package io.logtail.flush;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.logtail.aggregate.Batch;
import io.logtail.aggregate.BatchBuilder;
import io.logtail.aggregate.BatchPool;
import io.logtail.db.Database;
import io.logtail.db.TestDatabase;
import io.logtail.event.LineProcessor;
import io.logtail.parse.LogFormat;
import io.logtail.tail.Source;
import io.logtail.util.Ticker;
import io.logtail.worker.DbAssert;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The flusher's fast path (in-memory dedupe, COPY straight into the tables, hinted keys looked up)
 * and its fallback to the staging path (unique violation), against a real PostgreSQL: every vote ends
 * as exactly one of counted, duplicate or retransmit, and tallies and duplicate rows are exact.
 */
class BatchWriterIT {
  private static final String V1 = voter(1);
  private static final String V2 = voter(2);
  private static final String V3 = voter(3);

  private final List<AutoCloseable> closing = new ArrayList<>();

  @AfterEach
  void close() throws Exception {
    for (int i = closing.size() - 1; i >= 0; i--) {
      closing.get(i).close();
    }
  }

  @Test
  void inBatchDuplicatesRetransmitsAndResendsAreClassifiedInMemory() throws Exception {
    Database db = db("fast_in_batch");
    Node a = new Node(db, "a", new BatchWriter(nodeId(db, "a")));
    BatchResult r = a.write(
        vote("b1", "yes", V1, "e1"),
        vote("b1", "yes", V1, "e1"), // re-send of the counted vote: retransmit
        vote("b1", "no", V1, "e2"), // another vote of V1 on b1: duplicate
        vote("b1", "no", V2, null),
        vote("b1", "yes", V2, null), // no eid: never a retransmit
        vote("b2", "no", V1, "e3"), // same voter, other ballot: counts
        canvass("c1"),
        canvass("c1"), // re-send
        canvass("c2"),
        "10.0.0.1 - - [23/Nov/2026:09:00:00 +0000] \"GET /news HTTP/1.1\" 200 1 \"-\" \"x\"");
    assertEquals(3, r.votes());
    assertEquals(2, r.duplicates());
    assertEquals(1, r.retransmits());
    assertEquals(2, r.canvass());
    assertEquals(1, r.resends());
    assertEquals(0, a.writer.voteFallbacks());
    assertEquals(0, a.writer.canvassFallbacks());
    assertTallies(db, "b1\tno\t1", "b1\tyes\t1", "b2\tno\t1");
    assertEquals("e1", one(db, "SELECT eid FROM votes v JOIN ballot_keys k USING (ballot_id)"
        + " WHERE k.ballot = 'b1' AND voter = decode('" + V1 + "', 'hex')"));
    assertEquals(List.of("b1 " + V1 + " 1", "b1 " + V2 + " 1"), duplicates(db));
    assertEquals("3 2 1 2 1", one(db, "SELECT concat_ws(' ', sum(votes), sum(duplicates), sum(retransmits),"
        + " sum(canvass), sum(resends)) FROM batches"));
    assertEquals("2", one(db, "SELECT count(*) FROM canvass_records"));
  }

  @Test
  void aBatchWhoseCommitReplyWasLostIsFoundCommittedExactlyOnce() throws Exception {
    Database db = db("lost_reply");
    Node a = new Node(db, "a", new BatchWriter(nodeId(db, "a")));
    Batch batch = a.build(vote("b1", "yes", V1, "e1"), vote("b1", "no", V1, "e2"), canvass("c1"));
    a.writer.prepare(a.conn);
    assertEquals(null, a.writer.committedEarlier(a.conn, batch, 1), "not committed yet");
    BatchResult first = a.writer.write(a.conn, batch, 1);
    // the flusher's retry after a lost reply: the CAS fails, the batch is found as committed
    assertThrows(OffsetConflictException.class, () -> a.writer.write(a.conn, batch, 1));
    BatchResult found = a.writer.committedEarlier(a.conn, batch, 1);
    assertEquals(List.of(first.lines(), first.votes(), first.duplicates(), first.canvass()),
        List.of(found.lines(), found.votes(), found.duplicates(), found.canvass()));
    assertEquals(first.ranges(), found.ranges());
    assertEquals(1, DbAssert.query(db.dataSource(), "SELECT count(*) FROM votes"), "counted once");
    // another batch id of this node, or the same id with other ranges, is not this batch
    assertEquals(null, a.writer.committedEarlier(a.conn, batch, 2));
    Batch other = a.build(vote("b1", "yes", V2, "e3"));
    assertThrows(OffsetConflictException.class, () -> a.writer.committedEarlier(a.conn, other, 1));
  }

  @Test
  void keyCommittedByAnEarlierBatchIsFoundThroughTheHints() throws Exception {
    Database db = db("fast_hints");
    Node a = new Node(db, "a", new BatchWriter(nodeId(db, "a")));
    a.write(vote("b1", "yes", V1, "e1"), vote("b1", "no", V2, "e2"), canvass("c1"));
    BatchResult r = a.write(
        vote("b1", "yes", V1, "e1"), // retransmit of batch 1's vote
        vote("b1", "no", V1, "e9"), // duplicate
        vote("b1", "yes", V1, "e1"), // retransmit again
        vote("b1", "yes", V3, "e3"), // new
        canvass("c1"), // re-send of batch 1's record
        canvass("c2"));
    assertEquals(1, r.votes());
    assertEquals(1, r.duplicates());
    assertEquals(2, r.retransmits());
    assertEquals(1, r.canvass());
    assertEquals(1, r.resends());
    assertEquals(0, a.writer.voteFallbacks(), "the hints sent the known key to the lookup, not the COPY");
    assertEquals(0, a.writer.canvassFallbacks());
    assertTallies(db, "b1\tno\t1", "b1\tyes\t2");
    assertEquals(List.of("b1 " + V1 + " 1"), duplicates(db));
  }

  @Test
  void keyCommittedBeforeARestartFallsBackToTheStagingPath() throws Exception {
    Database db = db("fast_restart");
    int node = nodeId(db, "a");
    Node a = new Node(db, "a", new BatchWriter(node));
    a.write(vote("b1", "yes", V1, "e1"), canvass("c1"));
    // a new writer (a restarted worker) has empty hints: the COPY meets the key, 23505, staging path
    a.writer = new BatchWriter(node);
    BatchResult r = a.write(
        vote("b1", "no", V2, "e2"),
        vote("b1", "yes", V1, "e1"),
        vote("b1", "no", V1, "e5"),
        vote("b1", "no", V2, "e6"),
        canvass("c2"),
        canvass("c1"));
    assertEquals(1, a.writer.voteFallbacks());
    assertEquals(1, a.writer.canvassFallbacks());
    assertEquals(1, r.votes());
    assertEquals(2, r.duplicates());
    assertEquals(1, r.retransmits());
    assertEquals(1, r.canvass());
    assertEquals(1, r.resends());
    assertTallies(db, "b1\tno\t1", "b1\tyes\t1");
    assertEquals(List.of("b1 " + V1 + " 1", "b1 " + V2 + " 1"), duplicates(db));
  }

  @Test
  void keyCommittedByAnotherNodeFallsBackAndTheFirstCommittedVoteCounts() throws Exception {
    Database db = db("fast_other_node");
    Node a = new Node(db, "a", new BatchWriter(nodeId(db, "a")));
    Node b = new Node(db, "b", new BatchWriter(nodeId(db, "b")));
    b.write(vote("b1", "no", V1, "x1"), canvass("c1"));
    BatchResult r = a.write(
        vote("b1", "yes", V1, "x1"), // same eid as b's counted vote: a retransmit
        vote("b1", "yes", V1, "a2"), // duplicate
        vote("b1", "yes", V2, "a3"), // counts, for node a
        canvass("c1"),
        canvass("c3"));
    assertEquals(1, a.writer.voteFallbacks());
    assertEquals(1, a.writer.canvassFallbacks());
    assertEquals(1, r.votes());
    assertEquals(1, r.duplicates());
    assertEquals(1, r.retransmits());
    assertEquals(1, r.canvass());
    assertEquals(1, r.resends());
    assertTallies(db, "b1\tno\t1", "b1\tyes\t1");
    assertEquals("no", one(db, "SELECT choice FROM votes WHERE voter = decode('" + V1 + "', 'hex')"));
    assertEquals(List.of("b1 " + V1 + " 1"), duplicates(db));
    // and node a's next batch, hinted now, classifies without falling back again
    BatchResult r2 = a.write(vote("b1", "no", V1, "a4"), canvass("c1"));
    assertEquals(1, a.writer.voteFallbacks());
    assertEquals(1, a.writer.canvassFallbacks());
    assertEquals(0, r2.votes());
    assertEquals(1, r2.duplicates());
    assertEquals(1, r2.resends());
    assertEquals(List.of("b1 " + V1 + " 2"), duplicates(db));
  }

  @Test
  void aHintForAKeyThatIsNotInTheTableOnlyCostsALookup() throws Exception {
    Database db = db("fast_false_positive");
    int node = nodeId(db, "a");
    KeyBloom voteHints = new KeyBloom(10);
    KeyBloom canvassHints = new KeyBloom(10);
    Node a = new Node(db, "a", new BatchWriter(node, voteHints, canvassHints));
    // the ballot id is created by the first batch; then its key is hinted though never committed
    a.write(vote("b1", "yes", V3, "e0"));
    int ballotId = Integer.parseInt(one(db, "SELECT ballot_id FROM ballot_keys WHERE ballot = 'b1'"));
    voteHints.add(BatchPlan.voteKeyHash(ballotId, HexFormat.of().parseHex(V1)));
    canvassHints.add(BatchPlan.eidHash("c1".getBytes(StandardCharsets.US_ASCII)));
    BatchResult r = a.write(vote("b1", "yes", V1, "e1"), vote("b1", "yes", V1, "e1"), canvass("c1"), canvass("c1"));
    assertEquals(1, r.votes());
    assertEquals(1, r.retransmits());
    assertEquals(1, r.canvass());
    assertEquals(1, r.resends());
    assertEquals(0, a.writer.voteFallbacks());
    assertEquals(0, a.writer.canvassFallbacks());
    assertTallies(db, "b1\tyes\t2");
  }

  @Test
  void plannedAheadWhileThePreviousBatchIsNotCommitted() throws Exception {
    Database db = db("fast_planned_ahead");
    Node a = new Node(db, "a", new BatchWriter(nodeId(db, "a")));
    try (Connection lookup = db.dataSource().getConnection()) {
      a.writer.prepare(lookup);
      Batch b0 = a.build(vote("b1", "yes", V3, "e0"), canvass("c0"));
      assertTrue(a.writer.plan(lookup, b0));
      a.commit(b0);
      // b1 is planned, then b2 (with keys of b0, committed, and of b1, not committed yet), as the
      // planner does while the flusher writes b1
      Batch b1 = a.build(vote("b1", "yes", V1, "e1"), canvass("c1"));
      assertTrue(a.writer.plan(lookup, b1));
      Batch b2 = a.build(
          vote("b1", "no", V1, "e2"), // duplicate of b1's vote: looked up inside b2's transaction
          vote("b1", "yes", V1, "e1"), // retransmit of b1's vote
          vote("b1", "no", V3, "e0"), // b0's eid, other choice: a retransmit (same eid) found ahead
          vote("b1", "no", V3, "e9"), // duplicate of b0's vote, found ahead
          vote("b1", "no", V2, "e3"),
          canvass("c1"), // re-send of b1's record
          canvass("c0"), // re-send of b0's record
          canvass("c2"));
      assertTrue(a.writer.plan(lookup, b2));
      BatchResult r1 = a.commit(b1);
      assertEquals(1, r1.votes());
      BatchResult r2 = a.commit(b2);
      assertEquals(0, a.writer.voteFallbacks(), "b1's keys were looked up after b1 committed");
      assertEquals(2, a.writer.keysFromLastBatch(), "b1's V1 and c1 were answered from b1's committed keys");
      assertEquals(0, a.writer.canvassFallbacks());
      assertEquals(1, r2.votes());
      assertEquals(2, r2.duplicates());
      assertEquals(2, r2.retransmits());
      assertEquals(1, r2.canvass());
      assertEquals(2, r2.resends());
    }
    assertTallies(db, "b1\tno\t1", "b1\tyes\t2");
    assertEquals(List.of("b1 " + V1 + " 1", "b1 " + V3 + " 1"), duplicates(db));
  }

  @Test
  void keysOfThePreviousBatchAreAnsweredFromItsCommittedKeys() throws Exception {
    Database db = db("fast_previous_batch");
    Node a = new Node(db, "a", new BatchWriter(nodeId(db, "a")));
    String v4 = voter(4);
    a.write(vote("b1", "yes", V1, "e1"), vote("b1", "no", V2, null), vote("b1", "yes", v4, "e4"), canvass("c1"));
    BatchResult r2 = a.write(
        vote("b1", "yes", V1, "e1"), // retransmit of batch 1's vote, answered from memory
        vote("b1", "no", V2, null), // batch 1's vote of V2 has no eid: a duplicate
        vote("b1", "yes", V3, "e3"), // new
        canvass("c1"), // re-send of batch 1's record
        canvass("c2"));
    assertEquals(1, r2.votes());
    assertEquals(1, r2.duplicates());
    assertEquals(1, r2.retransmits());
    assertEquals(1, r2.canvass());
    assertEquals(1, r2.resends());
    assertEquals(3, a.writer.keysFromLastBatch(), "V1, V2 and c1 were batch 1's");
    BatchResult r3 = a.write(
        vote("b1", "no", V3, "e3"), // batch 2's counted vote's eid: a retransmit
        vote("b1", "no", V1, "e1"), // batch 2 found V1 counted with e1: a retransmit
        vote("b1", "no", V1, "e7"), // a duplicate
        vote("b1", "no", v4, "e4"), // batch 1's key, not batch 2's: looked up in the database
        canvass("c2"), // re-send of batch 2's record
        canvass("c1"), // batch 2 found c1 committed: a re-send
        canvass("c3"));
    assertEquals(0, r3.votes());
    assertEquals(1, r3.duplicates());
    assertEquals(3, r3.retransmits());
    assertEquals(1, r3.canvass());
    assertEquals(2, r3.resends());
    assertEquals(3 + 4, a.writer.keysFromLastBatch(), "V3, V1, c2 and c1 were batch 2's");
    assertEquals(0, a.writer.voteFallbacks());
    assertEquals(0, a.writer.canvassFallbacks());
    assertTallies(db, "b1\tno\t1", "b1\tyes\t3");
    assertEquals(List.of("b1 " + V1 + " 1", "b1 " + V2 + " 1"), duplicates(db));
    assertEquals("3", one(db, "SELECT count(*) FROM canvass_records"));
  }

  @Test
  void votesOfAPreviousBatchThatTookTheStagingPathAreLookedUp() throws Exception {
    Database db = db("fast_previous_staged");
    try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement()) {
      st.execute("INSERT INTO ballots (ballot, choices) VALUES ('b1', '{yes,no}')");
    }
    Node a = new Node(db, "a", new BatchWriter(nodeId(db, "a")));
    BatchResult r1 = a.write(vote("b1", "yes", V1, "e1"), vote("b1", "maybe", V2, "e2"), canvass("c1"));
    assertEquals(1, r1.votes());
    assertEquals(1, r1.rejects());
    try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement()) {
      st.execute("DELETE FROM ballots");
    }
    BatchResult r2 = a.write(
        vote("b1", "yes", V1, "e1"), // batch 1 staged its votes: looked up, a retransmit
        vote("b1", "yes", V2, "e2"), // rejected in batch 1 (unknown choice): counts now
        canvass("c1"));
    assertEquals(1, r2.votes());
    assertEquals(1, r2.retransmits());
    assertEquals(0, r2.duplicates());
    assertEquals(1, r2.resends());
    assertEquals(1, a.writer.keysFromLastBatch(), "only c1: batch 1's votes took the staging path");
    assertEquals(0, a.writer.voteFallbacks());
    assertTallies(db, "b1\tyes\t2");
  }

  @Test
  void withReferenceDataVotesTakeTheStagingPath() throws Exception {
    Database db = db("fast_reference");
    try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement()) {
      st.execute("INSERT INTO ballots (ballot, choices) VALUES ('b1', '{yes,no}')");
    }
    Node a = new Node(db, "a", new BatchWriter(nodeId(db, "a")));
    BatchResult r = a.write(
        vote("b1", "yes", V1, "e1"),
        vote("b1", "maybe", V2, "e2"), // unknown choice
        vote("b9", "yes", V2, "e3"), // unknown ballot
        vote("b1", "no", V1, "e4"), // duplicate
        canvass("c1"));
    assertEquals(1, r.votes());
    assertEquals(1, r.duplicates());
    assertEquals(2, r.rejects());
    assertEquals(1, r.canvass());
    assertTallies(db, "b1\tyes\t1");
    assertEquals("unknown_ballot 1, unknown_choice 1", one(db,
        "SELECT string_agg(reason || ' ' || n, ', ' ORDER BY reason) FROM"
            + " (SELECT reason, count(*) n FROM rejects GROUP BY reason) x"));
  }

  @Test
  void keyBloomHasNoFalseNegativesAndClearsWhenFull() {
    KeyBloom b = new KeyBloom(10); // 1 KiB: 819 keys
    java.util.SplittableRandom rnd = new java.util.SplittableRandom(7);
    long[] keys = new long[800];
    for (int i = 0; i < keys.length; i++) {
      keys[i] = rnd.nextLong();
      b.add(keys[i]);
    }
    for (long k : keys) {
      assertTrue(b.contains(k));
    }
    int fp = 0;
    for (int i = 0; i < 10_000; i++) {
      fp += b.contains(rnd.nextLong()) ? 1 : 0;
    }
    assertTrue(fp < 500, "false positives at capacity: " + fp + " of 10000");
    for (int i = 0; i < 100; i++) {
      b.add(rnd.nextLong());
    }
    assertEquals(1, b.clears());
    assertTrue(b.size() < 100);
  }

  @Test
  void keyHintsClearWhenFull() {
    KeyHints h = new KeyHints(4); // 16 slots, 12 keys
    for (long k = 1; k <= 12; k++) {
      h.add(k * 0x9E3779B97F4A7C15L);
    }
    assertEquals(12, h.size());
    assertTrue(h.contains(5 * 0x9E3779B97F4A7C15L));
    h.add(13 * 0x9E3779B97F4A7C15L);
    assertEquals(1, h.size());
    assertEquals(1, h.clears());
    assertTrue(h.contains(13 * 0x9E3779B97F4A7C15L));
    h.add(0);
    assertTrue(h.contains(0));
  }

  // ------------------------------------------------------------------------------------ harness

  /** One node's builder and writer on one source of its own, writing batches in order. */
  private final class Node {
    final Connection conn;
    final BatchPool pool = new BatchPool(3, 1 << 16);
    final BatchBuilder builder;
    final LineProcessor processor;
    final Source source;
    BatchWriter writer;
    long offset;
    long batchId;

    Node(Database db, String name, BatchWriter writer) throws Exception {
      int nodeId = nodeId(db, name);
      this.writer = writer;
      DbRegistry registry = new DbRegistry(db.dataSource(), nodeId, Ticker.system());
      builder = new BatchBuilder(pool, registry, nodeId, 1_000_000, 1 << 30, Long.MAX_VALUE, Ticker.system());
      processor = new LineProcessor(LogFormat.COMBINED, builder);
      source = new Source(name.hashCode() * 31L + 7, 1, name.hashCode(), Path.of("/var/log/" + name + ".log"), false);
      conn = db.dataSource().getConnection();
      closing.add(conn);
    }

    BatchResult write(String... lines) throws Exception {
      BatchResult r = commit(build(lines));
      assertEquals(lines.length, r.lines());
      return r;
    }

    Batch build(String... lines) throws Exception {
      for (String l : lines) {
        byte[] b = l.getBytes(StandardCharsets.UTF_8);
        processor.line(source, b, 0, b.length, offset, offset + b.length + 1);
        offset += b.length + 1;
      }
      builder.handOff();
      return pool.pollFull(1, TimeUnit.SECONDS);
    }

    BatchResult commit(Batch batch) throws Exception {
      if (conn.getAutoCommit()) {
        writer.prepare(conn);
      }
      BatchResult r = writer.write(conn, batch, ++batchId);
      pool.recycle(batch);
      return r;
    }
  }

  private Database db(String name) {
    Database db = TestDatabase.fresh(name);
    closing.add(db);
    return db;
  }

  private static int nodeId(Database db, String name) throws SQLException {
    try (Connection c = db.dataSource().getConnection();
        PreparedStatement ps = c.prepareStatement("INSERT INTO nodes (name) VALUES (?) ON CONFLICT (name)"
            + " DO UPDATE SET name = EXCLUDED.name RETURNING node_id")) {
      ps.setString(1, name);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getInt(1);
      }
    }
  }

  private static String vote(String ballot, String choice, String voter, String eid) {
    return "10.0.0.1 - - [23/Nov/2026:09:00:00 +0000] \"GET /b/vote.gif?ballot=" + ballot + "&choice=" + choice
        + "&voter=" + voter + (eid == null ? "" : "&eid=" + eid) + " HTTP/1.1\" 200 43 \"-\" \"t\"";
  }

  private static String canvass(String eid) {
    return "10.0.0.2 - - [23/Nov/2026:09:00:01 +0000] \"GET /b/canvass.gif?kind=visit&dwelling=d1&canvasser=u1"
        + "&lat=48.8&lon=2.3&eid=" + eid + " HTTP/1.1\" 200 43 \"-\" \"t\"";
  }

  private static String voter(int n) {
    return String.format("%064x", n * 0x1234567L + 99);
  }

  private static void assertTallies(Database db, String... expected) throws SQLException {
    List<String> got = new ArrayList<>();
    try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT ballot, choice, votes FROM vote_tallies ORDER BY 1, 2")) {
      while (rs.next()) {
        got.add(rs.getString(1) + "\t" + rs.getString(2) + "\t" + rs.getLong(3));
      }
    }
    assertEquals(List.of(expected), got, "vote_tallies");
    // tallies agree with the counted votes
    assertNull(one(db, "SELECT 1 FROM (SELECT ballot_id, choice, count(*) n FROM votes GROUP BY 1, 2) v"
        + " FULL JOIN (SELECT ballot_id, choice, sum(votes) n FROM vote_tally_parts GROUP BY 1, 2) t"
        + " USING (ballot_id, choice) WHERE v.n IS DISTINCT FROM t.n LIMIT 1"));
  }

  private static List<String> duplicates(Database db) throws SQLException {
    List<String> got = new ArrayList<>();
    try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT ballot, voter, attempts FROM vote_duplicates ORDER BY 1, 2")) {
      while (rs.next()) {
        got.add(rs.getString(1) + " " + rs.getString(2) + " " + rs.getLong(3));
      }
    }
    return got;
  }

  private static String one(Database db, String sql) throws SQLException {
    try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(sql)) {
      return rs.next() ? rs.getString(1) : null;
    }
  }
}
