package io.logtail.cli;

import io.logtail.db.Database;
import io.logtail.publish.PublishOptions;
import io.logtail.publish.Publisher;
import io.logtail.publish.PublisherConfig;
import io.logtail.publish.PublisherState;
import io.logtail.worker.DatabaseSetup;
import java.io.PrintWriter;
import java.time.Clock;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code logtail publish}: the publisher alone, without ingest (for a host that only serves results,
 * or to publish once). The same publisher runs in the admin process with {@code logtail run --publish-dir}.
 * It never migrates the schema: it only reads.
 */
@Command(name = "publish", mixinStandardHelpOptions = true,
    description = {
      "Publishes the committed results as flat files for nginx (docs/results.md): every --publish-interval, the",
      "files whose data changed are rewritten atomically, each with a .gz beside it. When the database fails the",
      "files stay as they are and results/status.json says since when they are stale. Until stopped (SIGTERM),",
      "or one cycle with --once.",
      "Exit status: 0; with --once 1 when the cycle failed; 2 for bad options or a directory another publisher holds."
    })
public final class PublishCommand implements Callable<Integer> {
  @Mixin DbOptions db = new DbOptions();
  @Mixin PublishOptions publish = new PublishOptions();

  @Option(names = "--once", description = "Publish once and exit (status 1 when that cycle failed).")
  boolean once;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    PublisherConfig cfg;
    try {
      cfg = publish.toConfig();
      if (cfg == null) {
        err.println("logtail publish: --publish-dir DIR is required (the directory nginx serves the results from)");
        return 2;
      }
    } catch (IllegalArgumentException e) {
      err.println("logtail publish: " + e.getMessage());
      return 2;
    }
    String url;
    try (Database setup = DatabaseSetup.open(db.dbUrl, db.dbUser, db.dbPassword, db.dataDir, db.dbPort, false)) {
      url = setup.jdbcUrl();
    }
    try (Database pool = Publisher.openPool(url, db.dbUser, db.dbPassword);
        Publisher p = new Publisher(pool.dataSource(), cfg, Clock.systemUTC())) {
      try {
        p.open();
      } catch (IllegalStateException e) {
        err.println("logtail publish: " + e.getMessage());
        return 2;
      }
      if (once) {
        boolean ok = p.publishOnce();
        PublisherState s = p.state();
        if (ok) {
          out.printf("published %s: seq %d, %d ballots, %d files written, %.1f ms%n", cfg.dir(), s.seq(), s.ballots(),
              s.filesWritten(), s.lastCycleMs());
        } else {
          err.println("logtail publish: the cycle failed, the files were left as they were: " + s.lastError());
        }
        out.flush();
        return ok ? 0 : 1;
      }
      CountDownLatch stop = new CountDownLatch(1);
      for (String sig : new String[] {"TERM", "INT"}) {
        sun.misc.Signal.handle(new sun.misc.Signal(sig), s -> stop.countDown());
      }
      p.start();
      out.printf("publishing %s every %d ms to %s (results/index.json, results/status.json); Ctrl-C to stop%n",
          db.describe(), cfg.interval().toMillis(), cfg.dir());
      out.flush();
      stop.await();
      return 0;
    }
  }
}
