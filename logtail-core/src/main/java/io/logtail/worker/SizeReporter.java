package io.logtail.worker;

import io.logtail.tail.SourceStatus;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reports to the database, every {@code interval}, the size of every stream this node tails (the
 * {@code source_sizes} table, schema V3), so that {@code logtail status --cluster} and the view
 * {@code cluster_status} show every node's lag from the one database: reported size minus committed
 * offset.
 *
 * <p>Its own autocommit transaction, its own table, only this node's rows: it never waits for the
 * flusher (which never touches {@code source_sizes}) nor for another node. A failure (database away,
 * an older schema without the table) is logged, once per distinct message, and retried at the next
 * round; it never stops the worker.
 */
public final class SizeReporter implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SizeReporter.class);
  private static final String UPSERT = """
      INSERT INTO source_sizes (node_id, fingerprint, size, reported_at) VALUES (?, ?, ?, now())
      ON CONFLICT (node_id, fingerprint) DO UPDATE SET size = EXCLUDED.size, reported_at = EXCLUDED.reported_at""";

  private final DataSource ds;
  private final int nodeId;
  private final Supplier<List<SourceStatus>> snapshot;
  private final Duration interval;
  private final Thread thread;
  private volatile boolean closed;
  private String lastError;

  public SizeReporter(DataSource ds, int nodeId, Supplier<List<SourceStatus>> snapshot, Duration interval) {
    if (interval.toMillis() < 100) {
      throw new IllegalArgumentException("size report interval must be at least 100 ms, was " + interval);
    }
    this.ds = ds;
    this.nodeId = nodeId;
    this.snapshot = snapshot;
    this.interval = interval;
    this.thread = new Thread(this::loop, "logtail-size-report");
    this.thread.setDaemon(true);
  }

  public SizeReporter start() {
    thread.start();
    return this;
  }

  private void loop() {
    while (!closed) {
      reportNow();
      try {
        Thread.sleep(interval.toMillis());
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  /** One report; returns the number of streams reported (0 on failure, which is logged). */
  public int reportNow() {
    Map<Long, Long> sizes = new HashMap<>();
    try {
      for (SourceStatus s : snapshot.get()) {
        if (s.sourceId() != null) {
          // a stream seen at two files (a copy being read instead) counts its larger size
          sizes.merge(Long.parseUnsignedLong(s.sourceId(), 16), s.size(), Math::max);
        }
      }
      if (sizes.isEmpty()) {
        return 0;
      }
      try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(UPSERT)) {
        c.setAutoCommit(true);
        for (Map.Entry<Long, Long> e : sizes.entrySet()) {
          ps.setInt(1, nodeId);
          ps.setLong(2, e.getKey());
          ps.setLong(3, e.getValue());
          ps.addBatch();
        }
        ps.executeBatch();
      }
      lastError = null;
      return sizes.size();
    } catch (SQLException | RuntimeException e) {
      String m = e.getMessage();
      if (m == null || !m.equals(lastError)) {
        log.warn("node {}: cannot report stream sizes for status --cluster ({}); retrying every {} ms", nodeId, m,
            interval.toMillis());
      }
      lastError = m;
      return 0;
    }
  }

  @Override
  public void close() {
    closed = true;
    thread.interrupt();
  }
}
