package io.logtail.cli;

import io.logtail.binlog.Binlog;
import io.logtail.binlog.BinlogConfig;
import io.logtail.binlog.BinlogEntry;
import io.logtail.binlog.BinlogFilter;
import io.logtail.binlog.BinlogRecord;
import io.logtail.binlog.Range;
import io.logtail.binlog.RecordKind;
import io.logtail.gen.LogGenerator;
import io.logtail.util.Ticker;
import io.logtail.worker.DurationConverter;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;

/**
 * {@code logtail bench --rate R --duration D}: the latency of a worker tailing a log that grows at a
 * fixed rate, its CPU and memory, and how fast it starts.
 *
 * <ol>
 *   <li>Cold start: {@value #WARMUP_LINES} lines are written to a new {@code <work-dir>/rate/access.log},
 *       a worker JVM is launched on an empty data dir and the fresh database {@code bench_rate}; once they
 *       are committed, the time from launch to the first commit is the cold start.
 *   <li>Rate: a {@link PacedAppender} appends lines at R lines/s for D, in chunks every
 *       {@value #CHUNK_MILLIS} ms; the worker's CPU time is read from /proc before and after; then the bench
 *       waits until every line is committed and reads the worker's peak RSS.
 *   <li>Restart (unless {@code --restart 0}): the worker is stopped (SIGTERM), the appender resumes at R
 *       lines/s and a new worker is launched on the same data dir at once; the time from that launch to
 *       its first commit is the restart figure.
 *   <li>Afterwards, from the binlog (each batch's committed range and commit time) and the appender's
 *       record (each chunk's end offset and write time), the write-to-commit latency of every line of the
 *       rate phase, and of the restart phase separately; and the row counts against the generator's.
 * </ol>
 * Nothing is measured while the worker runs but two reads of /proc and a progress query every 5 s.
 */
final class RateBench implements Callable<Integer> {
  static final int WARMUP_LINES = 1000;
  static final int CHUNK_MILLIS = 5;
  private static final String[] TABLES = {"votes", "canvass_records", "rejects"};

  private final BenchCommand o;
  private final PrintWriter out;
  private final PrintWriter err;
  private final Ticker ticker = Ticker.system();
  private final LongSupplier wallMicros = RateBench::nowMicros;

  RateBench(BenchCommand options, PrintWriter out, PrintWriter err) {
    this.o = options;
    this.out = out;
    this.err = err;
  }

  static long nowMicros() {
    Instant i = Instant.now();
    return i.getEpochSecond() * 1_000_000L + i.getNano() / 1000;
  }

  /** Seconds as a plain number, or a duration like 90s, 2m, 500ms. */
  static Duration parseSeconds(String s, String option) {
    try {
      return Duration.ofMillis(Math.round(Double.parseDouble(s.trim()) * 1000));
    } catch (NumberFormatException e) {
      try {
        return DurationConverter.parse(s);
      } catch (RuntimeException e2) {
        throw new IllegalArgumentException(option + ": '" + s + "' is not a duration: use seconds (60) or e.g. 90s, 2m");
      }
    }
  }

  @Override
  public Integer call() throws Exception {
    long rate = o.rate;
    Duration duration;
    Duration restart;
    try {
      duration = parseSeconds(o.duration, "--duration");
      restart = parseSeconds(o.restart, "--restart");
    } catch (IllegalArgumentException e) {
      err.println("logtail bench: " + e.getMessage());
      return 2;
    }
    if (rate < 1 || rate > 10_000_000) {
      err.println("logtail bench: --rate must be between 1 and 10000000 lines per second; was " + rate);
      return 2;
    }
    if (duration.toMillis() < 1000) {
      err.println("logtail bench: --duration must be at least 1 s; was " + o.duration);
      return 2;
    }
    if (restart.isNegative()) {
      err.println("logtail bench: --restart must not be negative; was " + o.restart);
      return 2;
    }
    o.workDir = o.workDir.toAbsolutePath();
    Path dir = o.workDir.resolve("rate");
    BenchCommand.deleteTree(dir);
    Path workerDir = Files.createDirectories(dir.resolve("worker"));
    Path log = dir.resolve("access.log");
    Path wlog = dir.resolve("worker.log");
    LogGenerator.Mix mix = new LogGenerator.Mix();
    mix.linesPerSecond = (int) Math.min(Integer.MAX_VALUE, rate);
    LogGenerator gen = new LogGenerator(o.seed, mix);
    long deadlineNanos = ticker.nanos() + o.timeout.toNanos() + duration.toNanos() + restart.toNanos();

    try (BenchCommand.Databases dbs = o.freshDatabases(err, "bench_rate")) {
      if (dbs == null) {
        return 1;
      }
      String url = dbs.urls().get(0);
      try (Connection c = DriverManager.getConnection(url, BenchCommand.props(dbs.user(), dbs.password()))) {
        // 1. cold start
        try (OutputStream os = Files.newOutputStream(log, StandardOpenOption.CREATE_NEW)) {
          StringBuilder sb = new StringBuilder();
          for (int i = 0; i < WARMUP_LINES; i++) {
            sb.append(gen.nextLine());
          }
          os.write(sb.toString().getBytes(StandardCharsets.UTF_8));
        }
        err.println("bench: rate mode in " + dir + "; worker log " + wlog);
        err.println("bench: cold start: a worker on an empty data dir, " + WARMUP_LINES + " lines waiting...");
        err.flush();
        ProcessBuilder pb = o.workerProcess(log, url, dbs.user(), dbs.password(), workerDir, wlog, false);
        long coldLaunchMicros = wallMicros.getAsLong();
        Process p = o.launch(pb);
        PacedAppender.Written main;
        double coldCpu;
        double load0;
        double load1;
        double cpuSeconds;
        double cpuWallSeconds;
        long peakRssKb;
        long rssKb;
        double drainSeconds;
        try {
          if (!awaitCommitted(c, Files.size(log), p, deadlineNanos, 10, wlog)) {
            return 1;
          }
          coldCpu = BenchCommand.cpuSeconds(p.pid());

          // 2. rate
          err.printf(Locale.ROOT, "bench: appending %d lines/s for %s...%n", rate, fmt(duration));
          err.flush();
          PacedAppender app = new PacedAppender(log, gen, rate, CHUNK_MILLIS * 1_000_000L, ticker, wallMicros);
          load0 = loadAverage();
          double cpu0 = BenchCommand.cpuSeconds(p.pid());
          long t0 = ticker.nanos();
          app.start();
          long end = t0 + duration.toNanos();
          long nextReport = t0 + 5_000_000_000L;
          while (true) {
            long now = ticker.nanos();
            if (now >= end) {
              break;
            }
            if (!p.isAlive()) {
              app.stopAndJoin();
              err.println("logtail bench: the worker exited (status " + p.exitValue() + "); see " + wlog);
              return 1;
            }
            if (now >= nextReport) {
              long committed = BenchCommand.queryLong(c, "SELECT coalesce(sum(committed_offset), 0) FROM sources");
              err.printf(Locale.ROOT, "  %.0f s: %.1f MB written, %.1f MB committed%n", (now - t0) / 1e9,
                  Files.size(log) / 1e6, committed / 1e6);
              err.flush();
              nextReport += 5_000_000_000L;
            }
            LockSupport.parkNanos(Math.min(end, nextReport) - now);
          }
          app.stopAndJoin();
          double cpu1 = BenchCommand.cpuSeconds(p.pid());
          cpuWallSeconds = (ticker.nanos() - t0) / 1e9;
          cpuSeconds = cpu1 - cpu0;
          load1 = loadAverage();
          main = app.written();
          long d0 = ticker.nanos();
          if (!awaitCommitted(c, main.endOffset(), p, deadlineNanos, 20, wlog)) {
            return 1;
          }
          drainSeconds = (ticker.nanos() - d0) / 1e9;
          peakRssKb = BenchCommand.procStatusKb(p.pid(), "VmHWM");
          rssKb = BenchCommand.procStatusKb(p.pid(), "VmRSS");
        } finally {
          int status = BenchCommand.stopWorker(p, err);
          if (status != 0) {
            err.println("bench: the worker exited with status " + status + "; see " + wlog);
          }
        }

        // 3. restart on the existing data dir, lines arriving at the rate meanwhile
        PacedAppender.Written after = null;
        long restartLaunchMicros = 0;
        double restartCpu = Double.NaN;
        long lastBatchBefore = lastBatchId(workerDir.resolve("binlog"));
        if (!restart.isZero()) {
          err.printf(Locale.ROOT, "bench: restart: a worker on the existing data dir, %d lines/s arriving, for %s...%n",
              rate, fmt(restart));
          err.flush();
          PacedAppender app = new PacedAppender(log, gen, rate, CHUNK_MILLIS * 1_000_000L, ticker, wallMicros);
          ProcessBuilder pb2 = o.workerProcess(log, url, dbs.user(), dbs.password(), workerDir, wlog, true);
          app.start();
          restartLaunchMicros = wallMicros.getAsLong();
          Process p2 = o.launch(pb2);
          try {
            long end = ticker.nanos() + restart.toNanos();
            // the worker's CPU time when its first batch is in: what starting costs, whatever the load
            long before = main.endOffset();
            while (p2.isAlive() && ticker.nanos() < deadlineNanos) {
              if (BenchCommand.queryLong(c, "SELECT coalesce(sum(committed_offset), 0) FROM sources") > before) {
                restartCpu = BenchCommand.cpuSeconds(p2.pid());
                break;
              }
              LockSupport.parkNanos(10_000_000L);
            }
            for (long now = ticker.nanos(); now < end && p2.isAlive(); now = ticker.nanos()) {
              LockSupport.parkNanos(Math.min(end - now, 100_000_000L));
            }
            app.stopAndJoin();
            after = app.written();
            if (!awaitCommitted(c, after.endOffset(), p2, deadlineNanos, 20, wlog)) {
              return 1;
            }
          } finally {
            int status = BenchCommand.stopWorker(p2, err);
            if (status != 0) {
              err.println("bench: the restarted worker exited with status " + status + "; see " + wlog);
            }
          }
        }

        // 4. figures, from the binlog and the appender's record
        Commits commits = commits(workerDir.resolve("binlog"), log);
        Latencies lat = Latencies.of(main, commits.end, commits.micros);
        Latencies latAfter = after == null ? null : Latencies.of(after, commits.end, commits.micros);
        double coldStart = (commits.firstCommitAfter(0) - coldLaunchMicros) / 1e6;
        double restartStart = after == null ? Double.NaN
            : (commits.firstCommitAfter(lastBatchBefore) - restartLaunchMicros) / 1e6;
        long[] counts = new long[3];
        for (int i = 0; i < TABLES.length; i++) {
          counts[i] = BenchCommand.queryLong(c, "SELECT count(*) FROM " + TABLES[i]);
        }
        LogGenerator.Expected e = gen.expected();
        boolean mismatch = counts[0] != e.votes || counts[1] != e.canvass || counts[2] != e.rejected();
        long committedBytes = BenchCommand.queryLong(c, "SELECT coalesce(sum(committed_offset), 0) FROM sources");
        long uncommitted = lat.uncommitted() + (latAfter == null ? 0 : latAfter.uncommitted());
        double cpuPercent = 100.0 * cpuSeconds / cpuWallSeconds;

        if (o.json) {
          StringBuilder j = new StringBuilder();
          j.append(String.format(Locale.ROOT, "{\"rate\":%d,\"durationSeconds\":%.3f,\"seed\":%d,\"linesWritten\":%d,"
                  + "\"linesCommitted\":%d,\"appenderMaxLagMs\":%.1f,\"p50Ms\":%.1f,\"p99Ms\":%.1f,\"maxMs\":%.1f,"
                  + "\"minMs\":%.1f,\"linesOver1s\":%d,\"drainSeconds\":%.3f,\"cpuSeconds\":%.2f,\"cpuPercent\":%.1f,"
                  + "\"peakRssMB\":%.1f,\"rssMB\":%.1f,\"coldStartSeconds\":%.3f",
              rate, main.seconds(), o.seed, main.lines(), lat.committed(), main.maxLagMillis(),
              lat.percentileMillis(0.50), lat.percentileMillis(0.99), lat.maxMillis(), lat.minMillis(),
              lat.overOneSecond(), drainSeconds, cpuSeconds, cpuPercent, peakRssKb / 1024.0, rssKb / 1024.0,
              coldStart));
          j.append(String.format(Locale.ROOT, ",\"coldStartCpuSeconds\":%.2f,\"cpus\":%d,\"loadAverageStart\":%.2f,"
              + "\"loadAverageEnd\":%.2f", coldCpu, Runtime.getRuntime().availableProcessors(), load0, load1));
          if (latAfter != null) {
            j.append(String.format(Locale.ROOT, ",\"restartSeconds\":%.3f,\"restartCpuSeconds\":%.2f,"
                    + "\"restartLines\":%d,\"restartP99Ms\":%.1f,\"restartMaxMs\":%.1f", restartStart, restartCpu,
                after.lines(), latAfter.percentileMillis(0.99), latAfter.maxMillis()));
          }
          j.append(String.format(Locale.ROOT, ",\"votes\":%d,\"canvass\":%d,\"rejects\":%d,\"countsMatch\":%b,"
              + "\"allCommitted\":%b}", counts[0], counts[1], counts[2], !mismatch,
              uncommitted == 0 && committedBytes == Files.size(log)));
          out.println(j);
        } else {
          out.printf(Locale.ROOT, "rate             %d lines/s for %.1f s (seed %d): %d lines written, %d committed%n",
              rate, main.seconds(), o.seed, main.lines(), lat.committed());
          out.printf(Locale.ROOT, "latency          p50 %.1f ms, p99 %.1f ms, max %.1f ms  (write to commit; %d lines"
              + " over 1 s)%n", lat.percentileMillis(0.50), lat.percentileMillis(0.99), lat.maxMillis(),
              lat.overOneSecond());
          out.printf(Locale.ROOT, "worker CPU       %.2f s in %.1f s = %.1f%% of one core%n", cpuSeconds, cpuWallSeconds,
              cpuPercent);
          out.printf(Locale.ROOT, "worker peak RSS  %.1f MB  (at end %.1f MB)%n", peakRssKb / 1024.0, rssKb / 1024.0);
          out.printf(Locale.ROOT, "cold start       %.2f s  (launch on an empty data dir to first commit; worker CPU by"
              + " then %.2f s)%n", coldStart, coldCpu);
          if (latAfter != null) {
            out.printf(Locale.ROOT, "restart          %.2f s  (launch on the existing data dir to first commit; worker CPU"
                    + " by then %.2f s; %d lines meanwhile: p99 %.1f ms, max %.1f ms)%n", restartStart, restartCpu,
                after.lines(), latAfter.percentileMillis(0.99), latAfter.maxMillis());
          }
          out.printf(Locale.ROOT, "appender         max lag %.1f ms behind its schedule; drain after the last line"
              + " %.2f s%n", main.maxLagMillis(), drainSeconds);
          out.printf(Locale.ROOT, "machine          %d CPUs; 1-minute load average %.2f at the start of the run,"
              + " %.2f at its end%n", Runtime.getRuntime().availableProcessors(), load0, load1);
          out.printf(Locale.ROOT, "rows             votes %d, canvass %d, rejects %d%n", counts[0], counts[1], counts[2]);
          out.printf(Locale.ROOT, "targets          p99 < 1 s: %s; CPU < 25%% of one core: %s; restart < 2 s: %s%n",
              lat.percentileMillis(0.99) < 1000 ? "met" : "MISSED", cpuPercent < 25 ? "met" : "MISSED",
              after == null ? "not measured" : restartStart < 2 ? "met" : "MISSED");
        }
        out.flush();
        int status = 0;
        if (mismatch) {
          err.printf("MISMATCH: ingest gave votes %d, canvass %d, rejects %d; the generator expects votes %d, "
                  + "canvass %d, rejects %d; see %s and the bench_rate database%n",
              counts[0], counts[1], counts[2], e.votes, e.canvass, e.rejected(), wlog);
          status = 1;
        }
        if (uncommitted != 0 || committedBytes != Files.size(log)) {
          err.printf("NOT ALL COMMITTED: %d lines without a committed batch in the binlog; committed offset %d of %d"
              + " bytes%n", uncommitted, committedBytes, Files.size(log));
          status = 1;
        }
        return status;
      }
    }
  }

  /** Polls the committed offset every {@code pollMillis} until it reaches {@code size}; false (said why) if not. */
  private boolean awaitCommitted(Connection c, long size, Process p, long deadlineNanos, long pollMillis, Path wlog)
      throws SQLException {
    while (true) {
      long committed = BenchCommand.queryLong(c, "SELECT coalesce(sum(committed_offset), 0) FROM sources");
      if (committed >= size) {
        return true;
      }
      if (!p.isAlive()) {
        err.println("logtail bench: the worker exited (status " + p.exitValue() + ") at " + committed + " of "
            + size + " bytes; see " + wlog);
        return false;
      }
      long now = ticker.nanos();
      if (now > deadlineNanos) {
        err.println("logtail bench: not all committed within --timeout (" + committed + " of " + size
            + " bytes); see " + wlog);
        return false;
      }
      LockSupport.parkNanos(pollMillis * 1_000_000L);
    }
  }

  /** Committed ranges of one log, by end offset, with commit times and batch ids. */
  static final class Commits {
    final long[] end;
    final long[] micros;
    final long[] batch;

    Commits(long[] end, long[] micros, long[] batch) {
      this.end = end;
      this.micros = micros;
      this.batch = batch;
    }

    /** Commit time of the first batch with an id above {@code batchId}. */
    long firstCommitAfter(long batchId) {
      long best = Long.MAX_VALUE;
      long t = 0;
      for (int i = 0; i < batch.length; i++) {
        if (batch[i] > batchId && batch[i] < best) {
          best = batch[i];
          t = micros[i];
        }
      }
      if (best == Long.MAX_VALUE) {
        throw new IllegalStateException("no batch after " + batchId + " in the binlog");
      }
      return t;
    }
  }

  static Commits commits(Path binlogDir, Path log) {
    record C(long end, long micros, long batch) {}
    List<C> cs = new ArrayList<>();
    String path = log.toString();
    try (Binlog b = Binlog.open(binlogDir, BinlogConfig.defaults().withReadOnly(true));
        Binlog.BinlogCursor cur = b.read(BinlogFilter.all())) {
      while (cur.hasNext()) {
        BinlogEntry e = cur.next();
        BinlogRecord r = e.record();
        if (r.kind() == RecordKind.REWIND) {
          continue;
        }
        for (Range range : r.ranges()) {
          if (range.path().equals(path)) {
            cs.add(new C(range.endOffset(), r.commitTimeMicros(), r.batchId()));
          }
        }
      }
    }
    cs.sort(Comparator.comparingLong(C::end));
    int n = cs.size();
    long[] end = new long[n];
    long[] micros = new long[n];
    long[] batch = new long[n];
    for (int i = 0; i < n; i++) {
      end[i] = cs.get(i).end();
      micros[i] = cs.get(i).micros();
      batch[i] = cs.get(i).batch();
    }
    return new Commits(end, micros, batch);
  }

  static long lastBatchId(Path binlogDir) {
    try (Binlog b = Binlog.open(binlogDir, BinlogConfig.defaults().withReadOnly(true))) {
      return b.last().map(BinlogRecord::batchId).orElse(0L);
    }
  }

  /** The 1-minute load average of /proc/loadavg, or NaN. */
  static double loadAverage() {
    try {
      return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
    } catch (IOException | RuntimeException e) {
      return Double.NaN;
    }
  }

  private static String fmt(Duration d) {
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
  }
}
