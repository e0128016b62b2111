package io.logtail.publish;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.GZIPInputStream;
import javax.sql.DataSource;

/**
 * Test data for the publisher, written the way the flusher commits: one transaction per batch, with
 * its {@code batches} row, per-node tally parts, duplicate rows, rejects (raw lines as nginx logs them)
 * and canvass records. It also keeps the expected tallies after each batch, so that a test can check
 * a published file against the batch it names.
 */
public final class PublishFixture {
  public static final ObjectMapper JSON = new ObjectMapper();

  private final DataSource ds;
  private final Map<String, Long> batchIds = new HashMap<>();
  private long eids;
  private long offsets;
  /** After batch k of node "n1": ballot -> choice -> votes. */
  final Map<Long, Map<String, Map<String, Long>>> tallyAfter = new java.util.concurrent.ConcurrentHashMap<>();
  private final Map<String, Map<String, Long>> tally = new TreeMap<>();

  public PublishFixture(DataSource ds) {
    this.ds = ds;
  }

  /** What one batch adds. */
  public static final class Batch {
    final Map<String, Map<String, Long>> votes = new TreeMap<>();
    final java.util.List<Map.Entry<String, long[]>> duplicates = new java.util.ArrayList<>();   // ballot, {voter seed, attempts}
    final Map<String, String> rejects = new HashMap<>();      // raw line -> reason
    int canvass;                                              // records, spread over a few cells

    public Batch vote(String ballot, String choice, long n) {
      votes.computeIfAbsent(ballot, k -> new TreeMap<>()).merge(choice, n, Long::sum);
      return this;
    }

    public Batch duplicate(String ballot, long voterSeed, long attempts) {
      duplicates.add(Map.entry(ballot, new long[] {voterSeed, attempts}));
      return this;
    }

    public Batch reject(String rawLine, String reason) {
      rejects.put(rawLine, reason);
      return this;
    }

    public Batch canvass(int n) {
      canvass += n;
      return this;
    }
  }

  /** A vote beacon line as nginx logs it (combined), with a referer that names another ballot. */
  static String voteLine(String ballot, String choice) {
    return "127.0.0.1 - - [06/Dec/2026:22:00:00 +0000] \"GET /b/vote.gif?v=1&ballot=" + ballot + "&choice=" + choice
        + "&voter=00 HTTP/1.1\" 200 43 \"https://news.example/live?ballot=referer-ballot\" \"ua\"";
  }

  /** Commits one batch of node {@code node}; returns its batch id. */
  public synchronized long commit(String node, Batch b) throws SQLException {
    try (Connection c = ds.getConnection()) {
      c.setAutoCommit(false);
      int nodeId;
      try (PreparedStatement ps = c.prepareStatement(
          "INSERT INTO nodes (name) VALUES (?) ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING node_id")) {
        ps.setString(1, node);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          nodeId = rs.getInt(1);
        }
      }
      long batchId = batchIds.merge(node, 1L, Long::sum);
      for (Map.Entry<String, Map<String, Long>> e : b.votes.entrySet()) {
        int ballotId = ballotId(c, e.getKey());
        for (Map.Entry<String, Long> ch : e.getValue().entrySet()) {
          try (PreparedStatement ps = c.prepareStatement("""
              INSERT INTO vote_tally_parts AS t (node_id, ballot_id, choice, votes) VALUES (?, ?, ?, ?)
              ON CONFLICT (node_id, ballot_id, choice) DO UPDATE SET votes = t.votes + EXCLUDED.votes""")) {
            ps.setInt(1, nodeId);
            ps.setInt(2, ballotId);
            ps.setString(3, ch.getKey());
            ps.setLong(4, ch.getValue());
            ps.executeUpdate();
          }
        }
      }
      for (Map.Entry<String, long[]> e : b.duplicates) {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO vote_duplicate_rows VALUES (?, ?, ?, now(), now())")) {
          ps.setInt(1, ballotId(c, e.getKey()));
          byte[] voter = new byte[32];
          voter[0] = (byte) e.getValue()[0];
          voter[1] = (byte) (e.getValue()[0] >> 8);
          ps.setBytes(2, voter);
          ps.setLong(3, e.getValue()[1]);
          ps.executeUpdate();
        }
      }
      for (Map.Entry<String, String> e : b.rejects.entrySet()) {
        try (PreparedStatement ps = c.prepareStatement(
            "INSERT INTO rejects (node_id, source_id, line_offset, reason, raw) VALUES (?, 1, ?, ?, ?)")) {
          ps.setInt(1, nodeId);
          ps.setLong(2, offsets++);
          ps.setString(3, e.getValue());
          ps.setBytes(4, e.getKey().getBytes(StandardCharsets.ISO_8859_1));
          ps.executeUpdate();
        }
      }
      if (b.canvass > 0) {
        try (PreparedStatement ps = c.prepareStatement("""
            INSERT INTO canvass_records (eid, kind, dwelling, canvasser, lat_e7, lon_e7, cell_lat, cell_lon, issue,
              stance, request, recorded_at, node_id, source_id, line_offset)
            VALUES (?, ?, 'd', 'c', 0, 0, ?, ?, ?, ?, NULL, now(), ?, 1, ?)""")) {
          for (int i = 0; i < b.canvass; i++) {
            long n = eids++;
            String kind = n % 3 == 0 ? "visit" : n % 3 == 1 ? "intention" : "followup";
            ps.setString(1, "e" + n);
            ps.setString(2, kind);
            ps.setInt(3, 48850 + (int) (n % 4) - 2);     // cells on both sides of 0 for lon, positive lat
            ps.setInt(4, (int) (n % 5) - 2);
            ps.setString(5, kind.equals("intention") ? (n % 2 == 0 ? "parks" : "tram") : null);
            ps.setString(6, kind.equals("intention") ? ResultsSnapshot.STANCES.get((int) (n % 3)) : null);
            ps.setInt(7, nodeId);
            ps.setLong(8, offsets++);
            ps.addBatch();
          }
          ps.executeBatch();
        }
      }
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO batches (node_id, batch_id, committed_at, lines, votes,"
          + " duplicates, retransmits, canvass, resends, rejects, skipped) VALUES (?, ?, ?, 0, 0, 0, 0, 0, 0, 0, 0)")) {
        ps.setInt(1, nodeId);
        ps.setLong(2, batchId);
        ps.setTimestamp(3, Timestamp.from(Instant.parse("2026-12-06T20:00:00Z").plusMillis(batchId * 10)));
        ps.executeUpdate();
      }
      c.commit();
      for (Map.Entry<String, Map<String, Long>> e : b.votes.entrySet()) {
        for (Map.Entry<String, Long> ch : e.getValue().entrySet()) {
          tally.computeIfAbsent(e.getKey(), k -> new TreeMap<>()).merge(ch.getKey(), ch.getValue(), Long::sum);
        }
      }
      if (node.equals("n1")) {
        Map<String, Map<String, Long>> copy = new TreeMap<>();
        tally.forEach((k, v) -> copy.put(k, new TreeMap<>(v)));
        tallyAfter.put(batchId, copy);
      }
      return batchId;
    }
  }

  private static int ballotId(Connection c, String ballot) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(
        "INSERT INTO ballot_keys (ballot) VALUES (?) ON CONFLICT (ballot) DO UPDATE SET ballot = EXCLUDED.ballot RETURNING ballot_id")) {
      ps.setString(1, ballot);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getInt(1);
      }
    }
  }

  static long queryLong(DataSource ds, String sql) throws SQLException {
    try (Connection c = ds.getConnection(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      return rs.next() ? rs.getLong(1) : -1;
    }
  }

  /** The database's tallies (vote_tallies) as ballot -> choice -> votes. */
  static Map<String, Map<String, Long>> tallies(DataSource ds) throws SQLException {
    Map<String, Map<String, Long>> m = new TreeMap<>();
    try (Connection c = ds.getConnection(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT ballot, choice, votes FROM vote_tallies")) {
      while (rs.next()) {
        m.computeIfAbsent(rs.getString(1), k -> new TreeMap<>()).put(rs.getString(2), rs.getLong(3));
      }
    }
    return m;
  }

  /** Reads and parses a JSON file (and checks that its .gz holds valid gzip of valid JSON). */
  public static JsonNode read(Path p) throws IOException {
    return JSON.readTree(Files.readAllBytes(p));
  }

  public static byte[] gunzip(byte[] gz) throws IOException {
    try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(gz))) {
      return in.readAllBytes();
    }
  }

  /** The choices of a published ballot as choice -> votes. */
  public static Map<String, Long> choices(JsonNode ballot) {
    Map<String, Long> m = new TreeMap<>();
    for (JsonNode c : ballot.path("choices")) {
      m.put(c.path("choice").asText(), c.path("votes").asLong());
    }
    return m;
  }

  /** A clock a test sets. */
  static final class SettableClock extends Clock {
    volatile Instant now;

    SettableClock(Instant now) {
      this.now = now;
    }

    void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }
}
