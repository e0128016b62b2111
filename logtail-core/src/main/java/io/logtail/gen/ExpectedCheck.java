package io.logtail.gen;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Compares a database with what a {@link LogGenerator} (or the sum of several) says it must hold:
 * tallies, counted votes, duplicate attempts, canvass records, rejects by reason, the counters of
 * every committed batch, and the canvass locality counts. Used by the tests and by the demo.
 */
public final class ExpectedCheck {
  private ExpectedCheck() {}

  /** Every difference, one readable line each ("what: expected X, database Y"); empty when they agree. */
  public static List<String> differences(Connection c, LogGenerator.Expected e) throws SQLException {
    List<String> d = new ArrayList<>();
    try (Statement st = c.createStatement()) {
      compare(d, "vote_tallies", new TreeMap<>(e.tallies),
          map(st, "SELECT ballot || E'\\t' || choice, votes FROM vote_tallies"));
      compare(d, "votes rows", e.votes, one(st, "SELECT count(*) FROM votes"));
      compare(d, "duplicate attempts", e.duplicates, one(st, "SELECT coalesce(sum(attempts), 0) FROM vote_duplicate_rows"));
      compare(d, "canvass_records rows", e.canvass, one(st, "SELECT count(*) FROM canvass_records"));
      compare(d, "rejects by reason", new TreeMap<>(e.rejects), map(st, "SELECT reason, count(*) FROM rejects GROUP BY reason"));
      try (ResultSet rs = st.executeQuery("SELECT coalesce(sum(lines),0), coalesce(sum(votes),0), "
          + "coalesce(sum(duplicates),0), coalesce(sum(retransmits),0), coalesce(sum(canvass),0), "
          + "coalesce(sum(resends),0), coalesce(sum(rejects),0), coalesce(sum(skipped),0) FROM batches")) {
        rs.next();
        compare(d, "batches.lines", e.lines, rs.getLong(1));
        compare(d, "batches.votes", e.votes, rs.getLong(2));
        compare(d, "batches.duplicates", e.duplicates, rs.getLong(3));
        compare(d, "batches.retransmits", e.retransmits, rs.getLong(4));
        compare(d, "batches.canvass", e.canvass, rs.getLong(5));
        compare(d, "batches.resends", e.resends, rs.getLong(6));
        compare(d, "batches.rejects", e.rejected(), rs.getLong(7));
        compare(d, "batches.skipped", e.skipped, rs.getLong(8));
      }
      compare(d, "canvass_localities", new TreeMap<>(e.cells), map(st,
          "SELECT cell_lat || E'\\t' || cell_lon || E'\\t' || kind || E'\\t' || issue || E'\\t' || stance, records"
              + " FROM canvass_localities"));
    }
    return d;
  }

  private static void compare(List<String> d, String what, Object expected, Object actual) {
    if (!Objects.equals(expected, actual)) {
      d.add(what + ": expected " + expected + ", database " + actual);
    }
  }

  private static long one(Statement st, String sql) throws SQLException {
    try (ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static Map<String, Long> map(Statement st, String sql) throws SQLException {
    Map<String, Long> m = new TreeMap<>();
    try (ResultSet rs = st.executeQuery(sql)) {
      while (rs.next()) {
        m.put(rs.getString(1), rs.getLong(2));
      }
    }
    return m;
  }
}
