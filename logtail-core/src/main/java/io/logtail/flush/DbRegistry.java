package io.logtail.flush;

import io.logtail.aggregate.Registry;
import io.logtail.tail.Source;
import io.logtail.util.Ticker;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Source and ballot ids from the database, cached. Used on the tailer thread only. Creating an id is
 * idempotent and outside any batch transaction (an id without rows is harmless), so a crash between
 * the two loses nothing. While the database is unreachable the calls retry with backoff, which stops
 * the tailer: backpressure, not loss.
 */
public final class DbRegistry implements Registry {
  private static final Logger log = LoggerFactory.getLogger(DbRegistry.class);
  private static final int BALLOT_CACHE_MAX = 100_000;

  private final DataSource ds;
  private final int nodeId;
  private final Ticker ticker;
  private final Map<Source, Integer> sources = new IdentityHashMap<>();
  private final Map<Long, Integer> sourcesByFingerprint = new HashMap<>();
  private final Map<String, Integer> ballots = new HashMap<>();
  private boolean reference = true;
  private long referenceCheckedNanos;
  private boolean referenceChecked;

  public DbRegistry(DataSource ds, int nodeId, Ticker ticker) {
    this.ds = ds;
    this.nodeId = nodeId;
    this.ticker = ticker;
  }

  @Override
  public int sourceId(Source s) throws InterruptedException {
    Integer id = sources.get(s);
    if (id != null) {
      return id;
    }
    id = sourcesByFingerprint.get(s.fingerprint());
    if (id == null) {
      id = retrying("register source " + s, c -> {
        // read first, insert only a new stream: an upsert would lock the row, which this node's flusher
        // (or a killed predecessor's open transaction) may hold; the batch's CAS records path and inode
        Integer known = sourceIdOf(c, s.fingerprint());
        if (known != null) {
          return known;
        }
        try (PreparedStatement ps = c.prepareStatement("""
            INSERT INTO sources (node_id, fingerprint, device, inode, path) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (node_id, fingerprint) DO NOTHING""")) {
          ps.setInt(1, nodeId);
          ps.setLong(2, s.fingerprint());
          ps.setLong(3, s.device());
          ps.setLong(4, s.inode());
          ps.setString(5, s.path().toString());
          ps.executeUpdate();
        }
        known = sourceIdOf(c, s.fingerprint());
        if (known == null) {
          throw new SQLException("source " + s + " has no row after inserting it");
        }
        return known;
      });
      sourcesByFingerprint.put(s.fingerprint(), id);
    }
    sources.put(s, id);
    return id;
  }

  @Override
  public int ballotId(String ballot) throws InterruptedException {
    Integer id = ballots.get(ballot);
    if (id != null) {
      return id;
    }
    id = retrying("register ballot " + ballot, c -> registerBallot(c, ballot));
    if (ballots.size() >= BALLOT_CACHE_MAX) {
      ballots.clear();
    }
    ballots.put(ballot, id);
    return id;
  }

  /**
   * The id of {@code ballot} in {@code ballot_keys}, the one table all nodes write to. Nodes that see
   * a new ballot at the same moment must not queue on its unique index (an insert waits for another
   * session's uncommitted insert of the same key, a heavyweight lock wait as long as that commit's
   * fsync): so the name is looked up first, and inserted only under a transaction-level advisory
   * lock taken with a try, never waited for. A node that does not get it knows another one is
   * inserting that ballot right now, and looks again a moment later. The insert commits with
   * {@code synchronous_commit = off}, which keeps that moment short and is safe: a batch that uses
   * the id commits synchronously later, and its WAL flush covers the earlier insert.
   */
  private Integer registerBallot(Connection c, String ballot) throws SQLException {
    long deadline = ticker.nanos() + TimeUnit.SECONDS.toNanos(10);
    try (PreparedStatement sel = c.prepareStatement("SELECT ballot_id FROM ballot_keys WHERE ballot = ?");
        PreparedStatement lock = c.prepareStatement(
            "SELECT pg_try_advisory_xact_lock(hashtext('logtail.ballot_keys'), hashtext(?))");
        PreparedStatement ins = c.prepareStatement(
            "INSERT INTO ballot_keys (ballot) VALUES (?) ON CONFLICT (ballot) DO NOTHING")) {
      sel.setString(1, ballot);
      lock.setString(1, ballot);
      ins.setString(1, ballot);
      while (true) {
        try (ResultSet rs = sel.executeQuery()) {
          if (rs.next()) {
            return rs.getInt(1);
          }
        }
        if (ticker.nanos() > deadline) {
          throw new SQLException("ballot " + ballot + " is still not in ballot_keys after 10 s of another session"
              + " registering it");
        }
        boolean mine;
        c.setAutoCommit(false);
        try {
          try (ResultSet rs = lock.executeQuery()) {
            rs.next();
            mine = rs.getBoolean(1);
          }
          if (mine) {
            try (Statement st = c.createStatement()) {
              st.execute("SET LOCAL synchronous_commit = off");
            }
            ins.executeUpdate();
          }
          c.commit();
        } catch (SQLException e) {
          c.rollback();
          throw e;
        } finally {
          c.setAutoCommit(true);
        }
        if (!mine) {
          LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2)); // another node is inserting it now
        }
      }
    }
  }

  private Integer sourceIdOf(Connection c, long fingerprint) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT source_id FROM sources WHERE node_id = ? AND fingerprint = ?")) {
      ps.setInt(1, nodeId);
      ps.setLong(2, fingerprint);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getInt(1) : null;
      }
    }
  }

  /**
   * Checked at most once a second. If the check fails the answer is "yes" (votes keep their raw line),
   * which is always safe.
   */
  @Override
  public boolean referenceDataLoaded() {
    long now = ticker.nanos();
    if (referenceChecked && now - referenceCheckedNanos < TimeUnit.SECONDS.toNanos(1)) {
      return reference;
    }
    referenceChecked = true;
    referenceCheckedNanos = now;
    try (Connection c = ds.getConnection();
        PreparedStatement ps = c.prepareStatement(
            "SELECT EXISTS (SELECT 1 FROM ballots) OR EXISTS (SELECT 1 FROM voter_roll_scopes)");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      reference = rs.getBoolean(1);
    } catch (SQLException e) {
      reference = true;
    }
    return reference;
  }

  private interface SqlCall<T> {
    T call(Connection c) throws SQLException;
  }

  private <T> T retrying(String what, SqlCall<T> call) throws InterruptedException {
    long backoffMs = 100;
    for (int attempt = 1; ; attempt++) {
      try (Connection c = ds.getConnection()) {
        c.setAutoCommit(true);
        return call.call(c);
      } catch (SQLException e) {
        if (attempt == 1 || attempt % 20 == 0) {
          log.warn("node {}: cannot {} (attempt {}): {}; retrying, reading is paused meanwhile",
              nodeId, what, attempt, e.getMessage());
        }
        TimeUnit.MILLISECONDS.sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, 5000);
      }
    }
  }
}
