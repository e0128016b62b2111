package io.logtail.publish;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Rejects counted per ballot and reason, kept up to date incrementally across cycles. The ballot of a
 * reject is taken from its raw line in SQL ({@link #BALLOT}; docs/results.md, "Rejects per ballot",
 * says why and what is not attributed). That pattern costs about 40 µs a row in PostgreSQL (measured:
 * 1.9 s for 50,000 rejects on this machine under load), too dear for every row in every cycle, so each
 * reject is matched once:
 * <ul>
 *   <li>every cycle, one cheap aggregate (no pattern): count and largest line offset of the rejects of
 *       each (node, source);</li>
 *   <li>a source whose count and largest offset are the ones already counted has nothing new;</li>
 *   <li>otherwise only its rows beyond the largest offset counted are matched: a source's batches commit
 *       in offset order, so those are exactly its new rows; if the counts do not add up (rows went away:
 *       a database restore), that source is counted again from scratch; a source that is gone is
 *       dropped.</li>
 * </ul>
 * Called inside the publisher's snapshot transaction, so the counts are those of the snapshot.
 */
final class RejectsByBallot {
  /** The ballot parameter of the request ({@code "GET /b/vote.gif?...&ballot=city-0&... HTTP/1.1"}); length checked apart. */
  static final String BALLOT =
      "substring(encode(raw, 'escape') from '\"[A-Z]+ [^ \"]*[?&]ballot=([A-Za-z0-9._-]+)[& \"]')";
  private static final String PER_SOURCE =
      "SELECT node_id, source_id, count(*), max(line_offset) FROM rejects GROUP BY node_id, source_id";
  private static final String NEW_ROWS = "SELECT ballot, reason, count(*), max(line_offset) FROM (SELECT " + BALLOT
      + " AS ballot, reason, line_offset FROM rejects WHERE node_id = ? AND source_id = ? AND line_offset > ?) r"
      + " GROUP BY ballot, reason";

  private record Key(int node, int source) {}

  /** What is counted of one source: rows, the largest offset, and ballot -> reason -> count. */
  private static final class Part {
    long rows;
    long maxOffset = -1;
    final Map<String, Map<String, Long>> byBallot = new HashMap<>();
  }

  private final Map<Key, Part> parts = new HashMap<>();
  private long matchedRows;

  /** Rows matched against the pattern since this object was made (for tests and the benchmark). */
  long matchedRows() {
    return matchedRows;
  }

  Map<String, SortedMap<String, Long>> read(Connection c) throws SQLException {
    Map<Key, long[]> now = new HashMap<>();
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(PER_SOURCE)) {
      while (rs.next()) {
        now.put(new Key(rs.getInt(1), rs.getInt(2)), new long[] {rs.getLong(3), rs.getLong(4)});
      }
    }
    Set<Key> gone = new HashSet<>(parts.keySet());
    gone.removeAll(now.keySet());
    parts.keySet().removeAll(gone);
    for (Map.Entry<Key, long[]> e : now.entrySet()) {
      Key k = e.getKey();
      long rows = e.getValue()[0];
      long max = e.getValue()[1];
      Part p = parts.get(k);
      if (p != null && p.rows == rows && p.maxOffset == max) {
        continue;
      }
      if (p != null && max > p.maxOffset && rows > p.rows) {
        Part next = copy(p);
        long added = match(c, k, p.maxOffset, next);
        if (p.rows + added == rows) {
          parts.put(k, next);
          continue;
        }
      }
      Part fresh = new Part();
      match(c, k, -1, fresh);
      parts.put(k, fresh);
    }
    Map<String, SortedMap<String, Long>> out = new HashMap<>();
    for (Part p : parts.values()) {
      for (Map.Entry<String, Map<String, Long>> b : p.byBallot.entrySet()) {
        SortedMap<String, Long> m = out.computeIfAbsent(b.getKey(), x -> new TreeMap<>());
        b.getValue().forEach((reason, n) -> m.merge(reason, n, Long::sum));
      }
    }
    return out;
  }

  /** Matches the rows of {@code k} beyond {@code after} into {@code into}; returns how many rows there were. */
  private long match(Connection c, Key k, long after, Part into) throws SQLException {
    long n = 0;
    try (PreparedStatement ps = c.prepareStatement(NEW_ROWS)) {
      ps.setInt(1, k.node());
      ps.setInt(2, k.source());
      ps.setLong(3, after);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          String ballot = rs.getString(1);
          long count = rs.getLong(3);
          n += count;
          into.rows += count;
          into.maxOffset = Math.max(into.maxOffset, rs.getLong(4));
          if (ballot != null && ballot.length() <= io.logtail.event.BeaconDecoder.MAX_ID) {
            into.byBallot.computeIfAbsent(ballot, x -> new HashMap<>()).merge(rs.getString(2), count, Long::sum);
          }
        }
      }
    }
    matchedRows += n;
    return n;
  }

  private static Part copy(Part p) {
    Part q = new Part();
    q.rows = p.rows;
    q.maxOffset = p.maxOffset;
    p.byBallot.forEach((b, m) -> q.byBallot.put(b, new HashMap<>(m)));
    return q;
  }
}
