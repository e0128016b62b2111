package io.logtail.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.logtail.gen.ExpectedCheck;
import io.logtail.gen.LogGenerator;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import javax.sql.DataSource;

/** Compares the database with what a {@link LogGenerator} says it must hold. */
public final class DbAssert {
  private DbAssert() {}

  public static void assertMatches(DataSource ds, LogGenerator.Expected e) throws SQLException {
    try (Connection c = ds.getConnection()) {
      assertEquals(List.of(), ExpectedCheck.differences(c, e), "database differs from the generator's expectation");
    }
  }

  static long one(Statement st, String sql) throws SQLException {
    try (ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  public static long query(DataSource ds, String sql) {
    try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
      return one(st, sql);
    } catch (SQLException e) {
      return -1;
    }
  }

  /** Waits for a condition, checking every 50 ms, failing after the deadline. */
  public static void await(Duration timeout, String what, BooleanSupplier cond) {
    long end = System.nanoTime() + timeout.toNanos();
    while (!cond.getAsBoolean()) {
      if (System.nanoTime() > end) {
        throw new AssertionError("timed out after " + timeout + " waiting for " + what);
      }
      LockSupport.parkNanos(50_000_000L);
    }
  }
}
