package io.logtail.cli;

import io.logtail.binlog.Binlog;
import io.logtail.binlog.BinlogConfig;
import io.logtail.binlog.BinlogDump;
import io.logtail.binlog.BinlogFilter;
import io.logtail.binlog.Range;
import io.logtail.binlog.RecordKind;
import io.logtail.db.Database;
import io.logtail.tail.SourceStatus;
import io.logtail.util.Ticker;
import io.logtail.worker.DatabaseSetup;
import io.logtail.worker.DurationConverter;
import io.logtail.worker.Recovery;
import io.logtail.worker.Worker;
import io.logtail.worker.WorkerConfig;
import io.logtail.worker.WorkerOptions;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code logtail recover}: after the database was restored from a backup, replays what the binlog
 * says was committed and the database lacks, waits until the node has caught up, then stops.
 */
@Command(name = "recover", mixinStandardHelpOptions = true,
    description = {
      "Replays what the database lacks after a restore, catches up, and stops.",
      "Reconciles the binlog with the database, replays the byte ranges the database lacks (after it",
      "was restored from an older backup), keeps reading until the node has caught up, and stops.",
      " Do not run it while `logtail run` runs on this --data-dir (the binlog has one writer).",
      "A stream is replayed from the files the binlog recorded (also renamed or gzipped copies next to",
      "them); when its files moved elsewhere, pass their current location with --log.",
      "",
      "Exit status: 0 everything replayed and caught up; 1 some streams could not be found (listed);",
      "2 bad options; 3 the worker or the database failed; 4 --timeout passed before catching up."
    })
public final class RecoverCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Mixin WorkerOptions options = new WorkerOptions();

  @Option(names = "--timeout", defaultValue = "10m", converter = DurationConverter.class,
      description = "Give up (exit 4) when not caught up after this long: 90s, 10m, 1h. Default: ${DEFAULT-VALUE}.")
  Duration timeout;

  private static final long STABLE_NANOS = Duration.ofSeconds(2).toNanos();

  @Override
  public Integer call() throws Exception {
    PrintWriter err = spec.commandLine().getErr();
    PrintWriter out = spec.commandLine().getOut();
    WorkerConfig cfg;
    try {
      cfg = options.toConfig();
    } catch (IllegalArgumentException e) {
      err.println("logtail recover: " + e.getMessage());
      return 2;
    }
    if (timeout.isZero() || timeout.isNegative()) {
      err.println("logtail recover: --timeout must be positive; was " + timeout);
      return 2;
    }
    String node = cfg.node();
    try (Database db = DatabaseSetup.open(options)) {
      // streams owed since an earlier rewind are not listed by the reconciliation: look for their files
      // beside the paths the binlog recorded, as the reconciliation does for the streams it lists
      try {
        for (Recovery.Missing m : owed(List.of(), cfg, node, committedOffsets(db, node))) {
          String glob = siblingsGlob(m.path());
          if (!cfg.logs().contains(glob)) {
            cfg.addLog(glob);
          }
        }
      } catch (RuntimeException e) {
        err.println("logtail recover: cannot read the binlog at " + cfg.binlogDir() + ": " + e.getMessage()
            + " (is `logtail run` holding it? stop it first)");
        return 3;
      }
      Worker w = new Worker(cfg, db.dataSource(), Ticker.system());
      Thread hook = new Thread(() -> {
        w.stop();
        try {
          w.awaitStopped(Duration.ofSeconds(30));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }, "logtail-recover-shutdown");
      Runtime.getRuntime().addShutdownHook(hook);
      try {
        w.start();
      } catch (Exception e) {
        err.println("logtail recover: could not start the worker: " + e.getMessage()
            + " (is `logtail run` still running on this --data-dir? stop it first)");
        return 3;
      }
      Recovery.Report rep = w.recovery();
      err.println("logtail recover: node " + node + ": " + rep.summary());
      List<Recovery.Missing> missing;
      try {
        missing = owed(rep.missing(), cfg, node, committedOffsets(db, node));
      } catch (RuntimeException e) {
        err.println("logtail recover: cannot read the binlog at " + cfg.binlogDir() + ": " + e.getMessage());
        w.stop();
        w.awaitStopped(Duration.ofSeconds(60));
        return 3;
      }
      if (missing.size() > rep.missing().size()) {
        err.println("logtail recover: the binlog also records " + (missing.size() - rep.missing().size())
            + " stream(s) further than the database has them (left over from an earlier rewind): replaying them too");
      }
      err.flush();

      long t0 = System.nanoTime();
      long deadline = t0 + timeout.toNanos();
      long lastSum = -1;
      long lastChange = t0;
      boolean timedOut = false;
      Map<Long, Long> committed = Map.of();
      while (true) {
        if (w.failure() != null || w.isStopped()) {
          break;
        }
        committed = committedOffsets(db, node);
        long sum = committed.values().stream().mapToLong(Long::longValue).sum();
        long now = System.nanoTime();
        if (sum != lastSum) {
          lastSum = sum;
          lastChange = now;
        }
        int replayed = 0;
        long bytesDone = 0;
        long bytesAll = 0;
        for (Recovery.Missing m : missing) {
          long have = committed.getOrDefault(m.fingerprint(), 0L);
          bytesAll += m.bytes();
          bytesDone += Math.max(0, Math.min(have, m.binlogEnd()) - m.databaseOffset());
          if (have >= m.binlogEnd()) {
            replayed++;
          }
        }
        boolean stable = now - lastChange >= STABLE_NANOS;
        boolean tailerCaughtUp = tailerCaughtUp(w);
        err.printf("  %ds: %d/%d streams replayed (%,d of %,d bytes); %,d bytes committed over %d streams%s%n",
            (now - t0) / 1_000_000_000L, replayed, missing.size(), bytesDone, bytesAll, sum,
            committed.size(), tailerCaughtUp ? (stable ? ", caught up" : ", reading done, committing") : ", reading");
        err.flush();
        if (stable && tailerCaughtUp) {
          // caught up: streams still short were not found in what the tailer follows
          break;
        }
        if (now >= deadline) {
          timedOut = true;
          break;
        }
        Thread.sleep(1000);
      }
      w.stop();
      if (!w.awaitStopped(Duration.ofSeconds(60))) {
        err.println("logtail recover: the worker did not stop within 60 s");
      }
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException e) {
        // shutting down already
      }
      if (w.failure() != null) {
        err.println("logtail recover: the worker failed: " + w.failure()
            + "; fix the cause (see the log above) and run logtail recover again");
        return 3;
      }
      committed = committedOffsets(db, node);
      Map<Long, String> paths = currentPaths(db, node);
      return report(out, err, rep, missing, committed, paths, timedOut);
    }
  }

  private int report(PrintWriter out, PrintWriter err, Recovery.Report rep, List<Recovery.Missing> missing,
      Map<Long, Long> committed, Map<Long, String> paths, boolean timedOut) {
    out.println("node:                " + options.nodeIdOrHostName());
    out.println("database batch:      " + rep.databaseLastBatch());
    out.println("binlog batch:        " + rep.binlogLastBatch());
    out.println("healed (binlog):     " + rep.healed());
    out.println("database was behind: " + (rep.rewound() ? "yes" : "no"));
    List<Recovery.Missing> notFound = new ArrayList<>();
    int replayed = 0;
    for (Recovery.Missing m : missing) {
      long have = committed.getOrDefault(m.fingerprint(), 0L);
      if (have >= m.binlogEnd()) {
        if (replayed++ == 0) {
          out.println("replayed streams (path, fingerprint, from, to, bytes):");
        }
        String now = paths.getOrDefault(m.fingerprint(), m.path());
        out.printf("  %s  %s  %d  %d  %d%s%n", now, BinlogDump.fingerprint(m.fingerprint()), m.databaseOffset(),
            m.binlogEnd(), m.bytes(), now.equals(m.path()) ? "" : "  (binlog path " + m.path() + ")");
      } else {
        notFound.add(m);
      }
    }
    if (replayed == 0) {
      out.println("replayed streams:    none");
    }
    if (notFound.isEmpty()) {
      out.println("result:              OK, caught up");
      out.flush();
      return 0;
    }
    out.println((timedOut ? "streams not replayed before --timeout" : "streams NOT FOUND")
        + " (path in binlog, fingerprint, database offset now, binlog end, bytes missing):");
    for (Recovery.Missing m : notFound) {
      long have = committed.getOrDefault(m.fingerprint(), 0L);
      out.printf("  %s  %s  %d  %d  %d%n", m.path(), BinlogDump.fingerprint(m.fingerprint()), have, m.binlogEnd(),
          m.binlogEnd() - have);
    }
    out.flush();
    if (timedOut) {
      err.println("logtail recover: not caught up after " + timeout
          + "; run it again (it resumes where it stopped), with a longer --timeout if the backlog is large");
      return 4;
    }
    err.println("logtail recover: " + notFound.size() + " stream(s) could not be found at the paths the binlog recorded"
        + " (nor renamed or gzipped copies beside them): find the files (by their first line; logtail"
        + " recognises them by fingerprint) and pass their current location with --log PATH (repeatable, globs allowed),"
        + " then run logtail recover again");
    return 1;
  }

  /**
   * The streams the database must still reach: those of the reconciliation, and any stream whose
   * furthest committed end in the binlog (BATCH and HEAL records of this node) is beyond the database's
   * offset. The second catches ranges owed since an earlier rewind whose files were not found then:
   * the REWIND record makes the next reconciliation see binlog and database as agreeing.
   */
  static List<Recovery.Missing> owed(List<Recovery.Missing> listed, WorkerConfig cfg, String node,
      Map<Long, Long> dbOffsets) {
    Map<Long, Recovery.Missing> byFp = new LinkedHashMap<>();
    for (Recovery.Missing m : listed) {
      byFp.put(m.fingerprint(), m);
    }
    Map<Long, Range> ends = new LinkedHashMap<>();
    if (Files.isDirectory(cfg.binlogDir())) {
      try (Binlog b = Binlog.open(cfg.binlogDir(), BinlogConfig.defaults().withReadOnly(true));
          Binlog.BinlogCursor cur = b.read(BinlogFilter.all().node(node)
              .kinds(EnumSet.of(RecordKind.BATCH, RecordKind.HEAL)), true)) {
        while (cur.hasNext()) {
          for (Range r : cur.next().record().ranges()) {
            ends.merge(r.fingerprint(), r, (a, c) -> c.endOffset() >= a.endOffset() ? c : a);
          }
        }
      }
    }
    for (Range r : ends.values()) {
      long have = dbOffsets.getOrDefault(r.fingerprint(), 0L);
      if (have < r.endOffset() && !byFp.containsKey(r.fingerprint())) {
        byFp.put(r.fingerprint(), new Recovery.Missing(r.fingerprint(), r.path(), have, r.endOffset()));
      }
    }
    return new ArrayList<>(byFp.values());
  }

  /** The file's directory and every name that starts with its base name (as {@code Recovery} does). */
  static String siblingsGlob(String path) {
    Path p = Path.of(path);
    String base = p.getFileName().toString();
    int dot = base.indexOf(".log");
    String stem = dot > 0 ? base.substring(0, dot + 4) : base;
    Path dir = p.getParent() == null ? Path.of(".") : p.getParent();
    return dir.resolve(stem + "*").toString();
  }

  /** Whether the tailer delivered every identified file up to its size. */
  static boolean tailerCaughtUp(Worker w) {
    if (w.tailer() == null) {
      return false;
    }
    for (SourceStatus s : w.tailer().snapshot()) {
      if (s.sourceId() == null || s.state() == SourceStatus.State.COPY || s.state() == SourceStatus.State.UNREADABLE) {
        continue;
      }
      if (s.readOffset() < s.size()) {
        return false;
      }
    }
    return true;
  }

  private static Map<Long, Long> committedOffsets(Database db, String node) throws SQLException {
    Map<Long, Long> m = new HashMap<>();
    try (Connection c = db.connection();
        PreparedStatement ps = c.prepareStatement("""
            SELECT s.fingerprint, s.committed_offset FROM sources s JOIN nodes n USING (node_id)
            WHERE n.name = ?""")) {
      ps.setString(1, node);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          m.put(rs.getLong(1), rs.getLong(2));
        }
      }
    }
    return m;
  }

  private static Map<Long, String> currentPaths(Database db, String node) throws SQLException {
    Map<Long, String> m = new HashMap<>();
    try (Connection c = db.connection();
        PreparedStatement ps = c.prepareStatement("""
            SELECT s.fingerprint, s.path FROM sources s JOIN nodes n USING (node_id) WHERE n.name = ?""")) {
      ps.setString(1, node);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          m.put(rs.getLong(1), rs.getString(2));
        }
      }
    }
    return m;
  }
}
