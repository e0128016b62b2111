package io.logtail.worker;

import io.logtail.tail.Fingerprint;
import io.logtail.tail.LogGlob;
import io.logtail.tail.Source;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reports to the database, every {@code interval}, the size of every plain file this node's
 * {@code --log} globs match, by stream fingerprint (the {@code source_sizes} table, schema V3), so that
 * {@code logtail status --cluster} and the view {@code cluster_status} show every node's lag from the
 * one database: reported size minus committed offset. It looks at the files itself (first line and
 * size), not at the tailer, so that the lag shows also while the tailer is busy catching up or stuck.
 * Rotated {@code .gz} files are left out: their size on disk is not their content's, and their stream
 * was reported while it was plain.
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
  private final List<LogGlob> logs = new ArrayList<>();
  private final byte[] first = new byte[Source.FINGERPRINT_MAX_BYTES];
  private final Duration interval;
  private final Thread thread;
  private volatile boolean closed;
  private String lastError;

  public SizeReporter(DataSource ds, int nodeId, List<String> logGlobs, Duration interval) {
    if (interval.toMillis() < 100) {
      throw new IllegalArgumentException("size report interval must be at least 100 ms, was " + interval);
    }
    this.ds = ds;
    this.nodeId = nodeId;
    for (String g : logGlobs) {
      logs.add(LogGlob.parse(g));
    }
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
      for (LogGlob g : logs) {
        List<Path> files;
        try {
          files = g.list();
        } catch (IOException e) {
          continue; // the tailer reports an unreadable directory
        }
        for (Path f : files) {
          if (!f.getFileName().toString().endsWith(".gz") && Files.isRegularFile(f)) {
            measure(f, sizes);
          }
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

  /** Adds the file's stream and size; a file without a complete first line, or gone, is left out. */
  private void measure(Path f, Map<Long, Long> sizes) {
    try (InputStream in = Files.newInputStream(f)) {
      long size = Files.size(f);
      int n = in.readNBytes(first, 0, first.length);
      int len = Fingerprint.identifyingLength(first, n);
      if (len >= 0) {
        // one stream at two files (a copy next to the original) counts its larger size
        sizes.merge(Fingerprint.xxHash64(first, 0, len), size, Math::max);
      }
    } catch (IOException e) {
      // rotated away or unreadable between listing and opening: the next round sees it
    }
  }

  @Override
  public void close() {
    closed = true;
    thread.interrupt();
  }
}
