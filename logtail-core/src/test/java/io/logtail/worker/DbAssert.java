package io.logtail.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.logtail.gen.LogGenerator;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import javax.sql.DataSource;

/** Compares the database with what a {@link LogGenerator} says it must hold. */
final class DbAssert {
  private DbAssert() {}

  static void assertMatches(DataSource ds, LogGenerator.Expected e) throws SQLException {
    try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
      Map<String, Long> tallies = new TreeMap<>();
      try (ResultSet rs = st.executeQuery("SELECT ballot, choice, votes FROM vote_tallies")) {
        while (rs.next()) {
          tallies.put(rs.getString(1) + "\t" + rs.getString(2), rs.getLong(3));
        }
      }
      assertEquals(new TreeMap<>(e.tallies), tallies, "vote_tallies");
      assertEquals(e.votes, one(st, "SELECT count(*) FROM votes"), "votes rows");
      assertEquals(e.duplicates, one(st, "SELECT coalesce(sum(attempts), 0) FROM vote_duplicate_rows"), "duplicate attempts");
      assertEquals(e.canvass, one(st, "SELECT count(*) FROM canvass_records"), "canvass_records rows");
      Map<String, Long> rejects = new TreeMap<>();
      try (ResultSet rs = st.executeQuery("SELECT reason, count(*) FROM rejects GROUP BY reason")) {
        while (rs.next()) {
          rejects.put(rs.getString(1), rs.getLong(2));
        }
      }
      assertEquals(new TreeMap<>(e.rejects), rejects, "rejects by reason");
      try (ResultSet rs = st.executeQuery("SELECT coalesce(sum(lines),0), coalesce(sum(votes),0), "
          + "coalesce(sum(duplicates),0), coalesce(sum(retransmits),0), coalesce(sum(canvass),0), "
          + "coalesce(sum(resends),0), coalesce(sum(rejects),0), coalesce(sum(skipped),0) FROM batches")) {
        rs.next();
        assertEquals(e.lines, rs.getLong(1), "batches.lines");
        assertEquals(e.votes, rs.getLong(2), "batches.votes");
        assertEquals(e.duplicates, rs.getLong(3), "batches.duplicates");
        assertEquals(e.retransmits, rs.getLong(4), "batches.retransmits");
        assertEquals(e.canvass, rs.getLong(5), "batches.canvass");
        assertEquals(e.resends, rs.getLong(6), "batches.resends");
        assertEquals(e.rejected(), rs.getLong(7), "batches.rejects");
        assertEquals(e.skipped, rs.getLong(8), "batches.skipped");
      }
      Map<String, Long> cells = new HashMap<>();
      try (ResultSet rs = st.executeQuery(
          "SELECT cell_lat, cell_lon, kind, issue, stance, records FROM canvass_localities")) {
        while (rs.next()) {
          cells.put(rs.getInt(1) + "\t" + rs.getInt(2) + "\t" + rs.getString(3) + "\t" + rs.getString(4)
              + "\t" + rs.getString(5), rs.getLong(6));
        }
      }
      assertEquals(new TreeMap<>(e.cells), new TreeMap<>(cells), "canvass_localities");
    }
  }

  static long one(Statement st, String sql) throws SQLException {
    try (ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  static long query(DataSource ds, String sql) {
    try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
      return one(st, sql);
    } catch (SQLException e) {
      return -1;
    }
  }

  /** Waits for a condition, checking every 50 ms, failing after the deadline. */
  static void await(Duration timeout, String what, BooleanSupplier cond) {
    long end = System.nanoTime() + timeout.toNanos();
    while (!cond.getAsBoolean()) {
      if (System.nanoTime() > end) {
        throw new AssertionError("timed out after " + timeout + " waiting for " + what);
      }
      LockSupport.parkNanos(50_000_000L);
    }
  }
}
