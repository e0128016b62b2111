package io.logtail.worker;

import io.logtail.db.Database;
import io.logtail.util.Ticker;
import java.time.Duration;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * The worker as a process of its own: what the admin process starts as a child JVM, and what the
 * crash tests kill. SIGTERM (or Ctrl-C) stops it cleanly: the current batch is committed, the binlog
 * synced. Exit status: 0 after a clean stop, 2 for bad options, 3 when the worker failed or refused to start
 * (a binlog it cannot open, read or write: the message says what to do).
 */
@Command(name = "worker", mixinStandardHelpOptions = true,
    description = "Runs one worker (tailer + flusher) in this process.")
public final class WorkerMain implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(WorkerMain.class);

  /** How often the worker reports its streams' sizes to the database (status --cluster's lag). */
  static final Duration SIZE_REPORT_INTERVAL = Duration.ofSeconds(2);

  @Mixin public WorkerOptions options = new WorkerOptions();

  public static void main(String[] args) {
    System.exit(new CommandLine(new WorkerMain()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    WorkerConfig cfg;
    try {
      cfg = options.toConfig();
    } catch (IllegalArgumentException e) {
      System.err.println("logtail worker: " + e.getMessage());
      return 2;
    }
    // SIGTERM and SIGINT ask for a clean stop, from the first moment: the process then exits 0 once
    // the current batch is committed and the binlog synced (a JVM shutdown hook would end with 143)
    java.util.concurrent.atomic.AtomicReference<Worker> running = new java.util.concurrent.atomic.AtomicReference<>();
    java.util.concurrent.atomic.AtomicBoolean stopRequested = new java.util.concurrent.atomic.AtomicBoolean();
    for (String sig : new String[] {"TERM", "INT"}) {
      sun.misc.Signal.handle(new sun.misc.Signal(sig), s -> {
        log.info("SIG{} received: stopping after the current batch", sig);
        stopRequested.set(true);
        Worker r = running.get();
        if (r != null) {
          r.stop();
        }
      });
    }
    // under an admin process: stop likewise when the admin is gone (ParentWatch)
    ParentWatch.startIfSupervised(() -> {
      stopRequested.set(true);
      Worker r = running.get();
      if (r != null) {
        r.stop();
      }
    });
    java.util.concurrent.atomic.AtomicBoolean started = new java.util.concurrent.atomic.AtomicBoolean();
    StatusFile status = options.statusFile == null ? null : new StatusFile(options.statusFile,
        () -> started.get() ? running.get() : null, () -> {
          Worker r = running.get();
          if (r != null && r.failure() != null) {
            return "failed";
          }
          if (stopRequested.get()) {
            return "stopping";
          }
          return started.get() ? "running" : "starting";
        }).start();
    // the binlog is opened on a thread of its own while the database is opened and its schema checked
    try (StartupWarmup warmup = StartupWarmup.start(cfg, Ticker.system());
        Database db = DatabaseSetup.open(options.dbUrl, options.dbUser, options.dbPassword, options.dataDir,
        options.dbPort, false)) {
      db.migrateUnlessCurrent();
      Worker w = new Worker(cfg, db.dataSource(), Ticker.system());
      try {
        BinlogWriter binlog = warmup.awaitBinlog();
        running.set(w);
        if (stopRequested.get()) {
          binlog.binlog().close();
          log.info("stopped before the worker started");
          return 0;
        }
        w.start(binlog);
      } catch (io.logtail.binlog.BinlogException e) {
        // the binlog cannot be opened, read or written (locked, full, unreadable): a refusal to start that
        // says what to do, not a stack trace
        log.error("worker cannot start: {}", e.getMessage());
        System.err.println("logtail worker: cannot start: " + e.getMessage());
        return 3;
      }
      started.set(true);
      // every node's lag in the one database, for status --cluster (its own table and transaction)
      SizeReporter sizes = new SizeReporter(db.dataSource(), w.nodeId(), options.logs,
          SIZE_REPORT_INTERVAL).start();
      if (stopRequested.get()) {
        w.stop();
      }
      while (!w.awaitStopped(Duration.ofSeconds(1))) {
        // the worker runs until stopped or failed
      }
      sizes.close();
      if (status != null) {
        status.writeNow();
        status.close();
      }
      log.info("worker stopped; last batch {}", w.stats().lastBatchId.get());
      if (w.failure() != null) {
        log.error("worker failed: {}", w.failure().toString());
        return 3;
      }
      return 0;
    }
  }
}
