package io.logtail.worker;

import io.logtail.util.Ticker;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Shortens the worker's start: on a background thread, opens the binlog (Chronicle Queue is slow to
 * initialise: hundreds of classes and static set-up, then the cycle files' checks; about 0.4 s here) and
 * loads the classes the pipeline needs, while the main thread connects to the database and checks the
 * schema (classes of other libraries, and round trips). The two do not depend on each other; the worker
 * needs both before it reconciles them ({@link Recovery}).
 *
 * <p>The main thread {@link #awaitBinlog()}s the opened binlog before it builds the worker, so the two
 * threads never initialise the worker's classes at the same time, and hands it to
 * {@link Worker#start(BinlogWriter)}; when it does not get that far (the database cannot be opened, a stop
 * was asked for), it {@link #close()}s the binlog, releasing its lock. A binlog that cannot be opened
 * (held by another worker, damaged, on a full disk) is thrown by {@code awaitBinlog} as it would have been
 * by the open itself. Failures of the class loading only cost the time they would have saved.
 */
final class StartupWarmup implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(StartupWarmup.class);
  private static final String[] CLASSES = {
    "io.logtail.parse.LogFormat",
    "io.logtail.event.LineProcessor",
    "io.logtail.tail.Tailer",
    "io.logtail.flush.Flusher",
    "io.logtail.flush.BatchWriter",
  };

  private final Thread thread;
  private final WorkerConfig cfg;
  private final Ticker ticker;
  private BinlogWriter binlog;      // written by the thread, read after join
  private Throwable failure;        // likewise
  private boolean taken;

  private StartupWarmup(WorkerConfig cfg, Ticker ticker) {
    this.cfg = cfg;
    this.ticker = ticker;
    thread = new Thread(this::run, "logtail-warmup");
    thread.setDaemon(true);
  }

  /** Starts opening the binlog of {@code cfg} and loading the pipeline's classes. */
  static StartupWarmup start(WorkerConfig cfg, Ticker ticker) {
    StartupWarmup w = new StartupWarmup(cfg, ticker);
    w.thread.start();
    return w;
  }

  private void run() {
    long t0 = System.nanoTime();
    try {
      binlog = BinlogWriter.open(cfg.binlogDir(), cfg.node(), cfg.binlogSyncInterval(), ticker);
    } catch (RuntimeException | Error e) {
      failure = e;
    }
    long t1 = System.nanoTime();
    ClassLoader cl = StartupWarmup.class.getClassLoader();
    for (String c : CLASSES) {
      try {
        Class.forName(c, true, cl);
      } catch (ClassNotFoundException | LinkageError | RuntimeException e) {
        log.debug("warm-up could not initialise {}: {}", c, e.toString());
      }
    }
    log.debug("node {}: binlog opened in {} ms, pipeline classes loaded in {} ms (beside the database set-up)",
        cfg.node(), (t1 - t0) / 1_000_000, (System.nanoTime() - t1) / 1_000_000);
  }

  /**
   * The opened binlog, once the warm-up is done; the caller owns it from here on. Throws what opening it
   * threw (a {@link io.logtail.binlog.BinlogException} for a binlog that is held, damaged or full).
   */
  BinlogWriter awaitBinlog() throws InterruptedException {
    thread.join();
    if (failure instanceof RuntimeException r) {
      throw r;
    }
    if (failure instanceof Error e) {
      throw e;
    }
    taken = true;
    return binlog;
  }

  /** Closes the binlog unless {@link #awaitBinlog()} handed it over (waits for the warm-up first). */
  @Override
  public void close() {
    try {
      thread.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;   // the process is ending; its lock goes with it
    }
    if (!taken && binlog != null) {
      try {
        binlog.binlog().close();
      } catch (RuntimeException e) {
        log.warn("node {}: closing the binlog that was opened for a worker that did not start: {}", cfg.node(),
            e.toString());
      }
    }
  }
}
