package io.logtail.worker;

import io.logtail.aggregate.BatchBuilder;
import io.logtail.aggregate.BatchPool;
import io.logtail.event.LineProcessor;
import io.logtail.flush.BatchWriter;
import io.logtail.flush.CommitListener;
import io.logtail.flush.DbRegistry;
import io.logtail.flush.Flusher;
import io.logtail.parse.LogFormat;
import io.logtail.tail.LineSink;
import io.logtail.tail.OffsetLookup;
import io.logtail.tail.Source;
import io.logtail.tail.Tailer;
import io.logtail.tail.TailerConfig;
import io.logtail.util.Ticker;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pipeline of one node: tailer → parser → decoder → batch builder on one thread (the "tailer"
 * thread, sole writer of the filling batch), and the flusher on another (sole committer). Batches
 * circulate through a fixed {@link BatchPool}, which is the backpressure.
 *
 * <p>Start-up: register the node, reconcile the binlog with the database ({@link Recovery}), read the
 * committed offsets (the database is the truth of what it holds; the tailer resumes each stream
 * there), then start both threads. Stop: the tailer stops reading, the partial batch is handed over,
 * the flusher commits everything queued, the binlog is synced.
 */
public final class Worker implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Worker.class);

  private final WorkerConfig cfg;
  private final DataSource ds;
  private final Ticker ticker;
  private final WorkerStats stats;
  private final List<CommitListener> extraListeners = new ArrayList<>();
  private final CountDownLatch stopped = new CountDownLatch(1);
  private volatile boolean stopping;
  private volatile Throwable failure;
  private int nodeId;
  private Tailer tailer;
  private Flusher flusher;
  private BatchBuilder builder;
  private BinlogWriter binlog;
  private Thread tailThread;
  private Thread flushThread;
  private Recovery.Report recovery;
  private volatile Map<Long, Long> resumeOffsets = Map.of();

  public Worker(WorkerConfig cfg, DataSource ds, Ticker ticker) {
    this.cfg = cfg;
    this.ds = ds;
    this.ticker = ticker;
    this.stats = new WorkerStats(ticker);
  }

  /** Adds a listener told of every commit after the binlog (before start). */
  public Worker onCommit(CommitListener l) {
    extraListeners.add(l);
    return this;
  }

  public WorkerStats stats() {
    return stats;
  }

  public int nodeId() {
    return nodeId;
  }

  public Recovery.Report recovery() {
    return recovery;
  }

  public Tailer tailer() {
    return tailer;
  }

  public Flusher flusher() {
    return flusher;
  }

  public BinlogWriter binlog() {
    return binlog;
  }

  /** Committed offset of each stream (by fingerprint) when this worker started: where it resumed. */
  public Map<Long, Long> resumeOffsets() {
    return resumeOffsets;
  }

  /** The error that stopped the worker, or null. */
  public Throwable failure() {
    return failure;
  }

  public void start() throws Exception {
    start(null);
  }

  /**
   * Starts the worker with {@code opened}, the binlog of {@code cfg.binlogDir()} already opened by the
   * caller (the worker process opens it while it connects to the database: the two take about as long),
   * or opens it itself when {@code opened} is null. The worker owns the binlog from here on: it closes it
   * when it stops, or when it fails to start.
   */
  public void start(BinlogWriter opened) throws Exception {
    binlog = opened;
    long firstBatchId;
    Map<Long, Long> offsets;
    try {
      cfg.freeze();
      nodeId = registerNode();
      if (binlog == null) {
        binlog = BinlogWriter.open(cfg.binlogDir(), cfg.node(), cfg.binlogSyncInterval(), ticker);
      }
      try (Connection c = ds.getConnection()) {
        recovery = Recovery.reconcile(c, nodeId, cfg.node(), binlog);
        firstBatchId = recovery.nextBatchId();
        offsets = committedOffsets(c);
      }
    } catch (Exception | Error e) {
      if (binlog != null) {
        try {
          binlog.binlog().close();   // releases the binlog's lock: the worker did not start
        } catch (RuntimeException e2) {
          e.addSuppressed(e2);
        }
      }
      throw e;
    }
    resumeOffsets = Map.copyOf(offsets);
    log.info("node {}: resuming {} known streams; next batch {}; {}", cfg.node(), offsets.size(),
        firstBatchId, recovery.summary());

    BatchPool pool = new BatchPool(3, 1 << 20);
    DbRegistry registry = new DbRegistry(ds, nodeId, ticker);
    builder = new BatchBuilder(pool, registry, nodeId, cfg.batchMaxLines(), cfg.batchMaxBytes(),
        cfg.flushInterval().toNanos(), cfg.batchLinger().toNanos(), ticker);
    LineProcessor processor = new LineProcessor(LogFormat.compile(resolveFormat(cfg.logFormat())), builder);
    TailerConfig tc = new TailerConfig().setMaxLineBytes(cfg.maxLineBytes())
        .setPollInterval(cfg.pollInterval()).setTicker(ticker);
    for (String l : cfg.logs()) {
      tc.addLog(l);
    }
    for (String l : recovery.extraLogs()) {
      tc.addLog(l);
    }
    OffsetLookup lookup = fp -> offsets.getOrDefault(fp, 0L);
    BatchBuilder b = builder;
    LineSink sink = new LineSink() {
      @Override
      public void line(Source s, byte[] buf, int off, int len, long start, long end) throws InterruptedException {
        processor.line(s, buf, off, len, start, end);
      }

      @Override
      public void oversizedLine(Source s, byte[] head, int headLen, long start, long end) throws InterruptedException {
        processor.oversizedLine(s, head, headLen, start, end);
      }

      @Override
      public void truncated(Source s, long readOffset, long bytesAtRisk) {
        processor.truncated(s, readOffset, bytesAtRisk);
      }

      @Override
      public void caughtUp() throws InterruptedException {
        b.tick();
      }
    };
    tailer = new Tailer(tc, sink, lookup);

    List<CommitListener> listeners = new ArrayList<>();
    listeners.add(binlog);
    listeners.add(stats);
    listeners.addAll(extraListeners);
    flusher = new Flusher(cfg.node(), ds, pool, new BatchWriter(nodeId), firstBatchId, listeners);

    flushThread = new Thread(this::flushLoop, "logtail-flusher");
    tailThread = new Thread(this::tailLoop, "logtail-tailer");
    flushThread.start();
    tailThread.start();
  }

  private void tailLoop() {
    long idleNanos = cfg.pollInterval().toNanos();
    try {
      while (!stopping) {
        int n = tailer.pollOnce();
        builder.tick();
        if (n == 0 && !stopping) {
          LockSupport.parkNanos(idleNanos);
        }
        if (flusher.failure() != null) {
          fail(flusher.failure());
          return;
        }
      }
      builder.handOff();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Throwable t) {
      fail(t);
    } finally {
      tailer.close();
      flusher.stopWhenDrained();
    }
  }

  private void flushLoop() {
    try {
      flusher.run();
      if (flusher.failure() != null) {
        fail(flusher.failure());
      }
    } finally {
      try {
        binlog.close();
      } catch (Exception e) {
        fail(e);
      }
      stopped.countDown();
    }
  }

  private void fail(Throwable t) {
    if (failure == null) {
      failure = t;
      log.error("node {}: worker stopping after error: {}", cfg.node(), t.toString());
    }
    stopping = true;
  }

  /** Asks the worker to stop: finish the current batch, commit what is queued, sync the binlog. */
  public void stop() {
    stopping = true;
    LockSupport.unpark(tailThread);
  }

  public boolean awaitStopped(Duration timeout) throws InterruptedException {
    return stopped.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  public boolean isStopped() {
    return stopped.getCount() == 0;
  }

  @Override
  public void close() throws InterruptedException {
    stop();
    if (!awaitStopped(Duration.ofSeconds(30))) {
      log.warn("node {}: worker did not stop within 30 s", cfg.node());
    }
  }

  /**
   * The node's id, creating its row on first start. A known name is only read: an upsert (ON CONFLICT
   * DO UPDATE) would lock the row, and wait for a killed predecessor's transaction whose foreign-key
   * checks still hold it, until PostgreSQL notices that backend is gone.
   */
  private int registerNode() throws SQLException {
    try (Connection c = ds.getConnection();
        PreparedStatement sel = c.prepareStatement("SELECT node_id FROM nodes WHERE name = ?");
        PreparedStatement ins = c.prepareStatement("INSERT INTO nodes (name) VALUES (?) ON CONFLICT (name) DO NOTHING")) {
      c.setAutoCommit(true);
      sel.setString(1, cfg.node());
      for (int attempt = 0; ; attempt++) {
        try (ResultSet rs = sel.executeQuery()) {
          if (rs.next()) {
            return rs.getInt(1);
          }
        }
        if (attempt > 0) {
          throw new SQLException("node " + cfg.node() + " has no row in nodes after inserting it");
        }
        ins.setString(1, cfg.node());
        ins.executeUpdate();
      }
    }
  }

  private Map<Long, Long> committedOffsets(Connection c) throws SQLException {
    Map<Long, Long> m = new HashMap<>();
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT fingerprint, committed_offset FROM sources WHERE node_id = ?")) {
      ps.setInt(1, nodeId);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          m.put(rs.getLong(1), rs.getLong(2));
        }
      }
    }
    return m;
  }

  static String resolveFormat(String f) {
    return f.equals("combined") ? LogFormat.COMBINED_TEXT : f;
  }
}
