package io.logtail.cli;

import io.logtail.admin.ClassDataArchive;
import io.logtail.admin.WorkerJvm;
import io.logtail.db.Database;
import io.logtail.db.EmbeddedPostgres;
import io.logtail.gen.LogGenerator;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyManager;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code logtail bench}: end-to-end throughput of the worker against the ceiling of plain binary COPY
 * of the same rows into the same tables.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = {
      "Measures ingest throughput against the COPY ceiling.",
      "Deterministic: generates --lines lines with the log generator (seed",
      "--seed) into <work-dir>/access.log (reused when it was made with the same lines and seed), starts",
      "fresh databases bench_ingest and bench_copy (embedded PostgreSQL under <work-dir>/pg, or on the",
      "server of --db-url, whose user must be allowed to create databases), then",
      "  (a) ingest: runs a worker as a child JVM (-Xmx of --worker-heap) and times it from launch until the database's",
      "      committed offset equals the file size; samples its peak RSS and CPU time;",
      "  (b) COPY ceiling: loads the same rows ingest produced (votes, canvass_records, rejects) into",
      "      bench_copy with plain binary COPY, one transaction per table, timed.",
      "Checks the ingested counts against what the generator says they must be.",
      "",
      "",
      "Rate mode (--rate R --duration D): appends lines at R lines/s to <work-dir>/rate/access.log while a",
      "worker ingests them into the fresh database bench_rate, and reports the write-to-commit latency of",
      "every line (p50/p99/max, from the binlog's commit times), the worker's CPU (%% of one core) and peak",
      "RSS, and the time from the worker's launch to its first commit, on an empty and (--restart) on an",
      "existing data dir. See docs/benchmarks.md.",
      "",
      "Multi-node mode (--nodes N): the --lines log split by voter / eid into N logs, N worker JVMs (one node",
      "each) into the one fresh database bench_nodes; total throughput, and what PostgreSQL's backends",
      "waited on (sampled), the machine's and the workers' CPU: where the limit lies.",
      "",
      "Exit status: 0 done; 1 MISMATCH of counts, lines left uncommitted, or the run failed; 2 bad options."
    })
public final class BenchCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--lines", defaultValue = "5000000", description = "Lines to generate. Default: ${DEFAULT-VALUE}.")
  long lines;

  @Option(names = "--seed", defaultValue = "42", description = "Generator seed: same seed, same file. Default: ${DEFAULT-VALUE}.")
  long seed;

  @Option(names = "--work-dir", paramLabel = "DIR", defaultValue = "target/bench",
      description = "Where the log, the databases and the worker's data go. Default: ${DEFAULT-VALUE}.")
  Path workDir;

  @Option(names = "--db-url", paramLabel = "JDBC_URL",
      description = "A PostgreSQL server to run on instead of the embedded one, e.g. jdbc:postgresql://db:5432/postgres;"
          + " the databases bench_ingest and bench_copy are DROPPED and created there.")
  String dbUrl;

  @Option(names = "--db-user", defaultValue = "${env:LOGTAIL_DB_USER}", description = "Database user (or in the URL). Env: LOGTAIL_DB_USER.")
  String dbUser;

  @Option(names = "--db-password", defaultValue = "${env:LOGTAIL_DB_PASSWORD}", description = "Database password; prefer the environment. Env: LOGTAIL_DB_PASSWORD.")
  String dbPassword;

  @Option(names = "--db-port", defaultValue = "54339",
      description = "Port of the embedded PostgreSQL of the bench (loopback only). Default: ${DEFAULT-VALUE}.")
  int dbPort;

  @Option(names = "--db-shared-buffers", defaultValue = "128MB", paramLabel = "SIZE",
      description = "shared_buffers of the bench's embedded PostgreSQL (ingest and ceiling alike), e.g. 512MB;"
          + " the default is the embedded server's of `run`. Default: ${DEFAULT-VALUE}.")
  String dbSharedBuffers;

  @Option(names = "--timeout", defaultValue = "30m", converter = io.logtail.worker.DurationConverter.class,
      description = "Give up on ingest after this long. Default: ${DEFAULT-VALUE}.")
  Duration timeout;

  @Option(names = "--worker-heap", defaultValue = "192m", paramLabel = "SIZE",
      description = "The worker JVM's -Xmx, as `run --worker-heap`. Default: ${DEFAULT-VALUE}.")
  String workerHeap;

  @Option(names = "--json", description = "Print the figures as one JSON object.")
  boolean json;

  @Option(names = "--rate", paramLabel = "R",
      description = "Rate mode: append lines at R lines per second (instead of ingesting a backlog of --lines).")
  Long rate;

  @Option(names = "--duration", paramLabel = "D", defaultValue = "60",
      description = "Rate mode: how long to append at --rate, in seconds or e.g. 90s, 2m. Default: ${DEFAULT-VALUE} (s).")
  String duration;

  @Option(names = "--restart", paramLabel = "D", defaultValue = "5",
      description = "Rate mode: after the run, restart the worker on its data dir while appending at --rate for D"
          + " (seconds or e.g. 5s; longer if its first commit comes later), to time launch to first commit;"
          + " 0 skips it. Default: ${DEFAULT-VALUE} (s).")
  String restart;

  @Option(names = "--nodes", paramLabel = "N",
      description = "Multi-node mode: split the --lines log by voter / eid (as systemd/nginx-balancer.conf) into N logs"
          + " and ingest them with N worker JVMs, one node each, into one fresh database bench_nodes; reports the total"
          + " throughput and what the database's backends waited on (NodesBench).")
  Integer nodes;

  @Option(names = "--worker-arg", paramLabel = "ARG",
      description = "Passed on to the worker, e.g. --worker-arg=--flush-interval=100ms (repeatable).")
  List<String> workerArgs = new ArrayList<>();

  private static final String[] TABLES = {"votes", "canvass_records", "rejects"};

  /** What the sidecar records about a generated log. */
  record Generated(long lines, long seed, long size, long votes, long canvass, long rejects) {}

  @Override
  public Integer call() throws Exception {
    PrintWriter err = spec.commandLine().getErr();
    PrintWriter out = spec.commandLine().getOut();
    if (rate != null) {
      return new RateBench(this, out, err).call();
    }
    if (nodes != null) {
      return new NodesBench(this, out, err).call();
    }
    if (lines < 1) {
      err.println("logtail bench: --lines must be at least 1; was " + lines);
      return 2;
    }
    workDir = workDir.toAbsolutePath();
    Files.createDirectories(workDir);
    Path log = workDir.resolve("access.log");
    Generated gen = generate(log, err);
    double fileMb = gen.size() / 1e6;

    try (Databases dbs = freshDatabases(err, "bench_ingest", "bench_copy")) {
      if (dbs == null) {
        return 1;
      }
      String ingestUrl = dbs.urls().get(0);
      String copyUrl = dbs.urls().get(1);
      String user = dbs.user();
      String password = dbs.password();
      Path workerDir = workDir.resolve("worker");
      // a fresh data dir for the worker, but for its class-data archive (ClassDataArchive): the ingest of a worker
      // as production runs it after its first clean exit, not of one that records its classes for an archive
      deleteTreeExcept(workerDir, workerDir.resolve(ClassDataArchive.DIR_NAME));
      Files.createDirectories(workerDir);

      // (a) ingest by a child worker JVM
      WalStats w0 = WalStats.read(ingestUrl, user, password);
      Ingest ing = ingest(log, gen.size(), ingestUrl, user, password, workerDir, err);
      if (ing == null) {
        return 1;
      }
      WalStats w1 = WalStats.read(ingestUrl, user, password);
      long[] counts = new long[3];
      try (Connection c = DriverManager.getConnection(ingestUrl, props(user, password))) {
        for (int i = 0; i < TABLES.length; i++) {
          counts[i] = queryLong(c, "SELECT count(*) FROM " + TABLES[i]);
        }
      }
      boolean mismatch = counts[0] != gen.votes() || counts[1] != gen.canvass() || counts[2] != gen.rejects();

      // (b) COPY ceiling: export the ingested rows first (untimed), then COPY them into bench_copy (timed)
      List<Path> dumps = new ArrayList<>();
      try (Connection c = DriverManager.getConnection(ingestUrl, props(user, password))) {
        CopyManager cm = c.unwrap(PGConnection.class).getCopyAPI();
        for (String t : TABLES) {
          Path f = workDir.resolve("copy-" + t + ".bin");
          try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(f), 1 << 20)) {
            cm.copyOut("COPY " + t + " TO STDOUT (FORMAT binary)", os);
          }
          dumps.add(f);
        }
      }
      err.println("bench: COPY of the same rows into bench_copy...");
      err.flush();
      WalStats w2 = WalStats.read(copyUrl, user, password);
      long copyRows = 0;
      long c0 = System.nanoTime();
      try (Connection c = DriverManager.getConnection(copyUrl, props(user, password))) {
        c.setAutoCommit(false);
        CopyManager cm = c.unwrap(PGConnection.class).getCopyAPI();
        for (int i = 0; i < TABLES.length; i++) {
          try (InputStream is = Files.newInputStream(dumps.get(i))) {
            copyRows += cm.copyIn("COPY " + TABLES[i] + " FROM STDIN (FORMAT binary)", is, 1 << 16);
          }
          c.commit();
        }
      }
      double copySeconds = (System.nanoTime() - c0) / 1e9;
      WalStats w3 = WalStats.read(copyUrl, user, password);
      WalStats walIngest = w1.minus(w0);
      WalStats walCopy = w3.minus(w2);
      for (Path f : dumps) {
        Files.deleteIfExists(f);
      }

      double linesPerSec = lines / ing.seconds;
      double copyRowsPerSec = copyRows / copySeconds;
      double ratio = copySeconds / ing.seconds;
      if (json) {
        out.printf(Locale.ROOT, "{\"lines\":%d,\"seed\":%d,\"fileMB\":%.1f,\"ingestSeconds\":%.3f,\"linesPerSecond\":%.0f,"
                + "\"copyRows\":%d,\"copySeconds\":%.3f,\"copyRowsPerSecond\":%.0f,\"ratio\":%.3f,\"peakRssMB\":%.1f,"
                + "\"rssMB\":%.1f,\"cpuSeconds\":%.2f,\"votes\":%d,\"canvass\":%d,\"rejects\":%d,\"countsMatch\":%b}%n",
            lines, seed, fileMb, ing.seconds, linesPerSec, copyRows, copySeconds, copyRowsPerSec, ratio,
            ing.peakRssKb / 1024.0, ing.rssKb / 1024.0, ing.cpuSeconds, counts[0], counts[1], counts[2], !mismatch);
      } else {
        out.printf(Locale.ROOT, "lines            %d (seed %d)%n", lines, seed);
        out.printf(Locale.ROOT, "file             %.1f MB%n", fileMb);
        out.printf(Locale.ROOT, "ingest           %.2f s  (%.0f lines/s)%n", ing.seconds, linesPerSec);
        out.printf(Locale.ROOT, "COPY ceiling     %.2f s  (%d rows, %.0f rows/s)%n", copySeconds, copyRows, copyRowsPerSec);
        out.printf(Locale.ROOT, "ratio            %.3f  (COPY seconds / ingest seconds)%n", ratio);
        out.printf(Locale.ROOT, "worker peak RSS  %.1f MB  (at end %.1f MB)%n", ing.peakRssKb / 1024.0, ing.rssKb / 1024.0);
        out.printf(Locale.ROOT, "worker CPU       %.2f s%n", ing.cpuSeconds);
        out.printf(Locale.ROOT, "rows             votes %d, canvass %d, rejects %d%n", counts[0], counts[1], counts[2]);
        out.printf(Locale.ROOT, "WAL              ingest %.1f MB (%d full-page images, %d checkpoints started);"
                + " ceiling %.1f MB (%d full-page images, %d checkpoints started)%n",
            walIngest.bytes() / 1e6, walIngest.fpi(), walIngest.checkpoints(),
            walCopy.bytes() / 1e6, walCopy.fpi(), walCopy.checkpoints());
        out.printf(Locale.ROOT, "buffers          ingest %d read, %d hit, %d written by backends; ceiling %d read, %d hit,"
                + " %d written by backends%n", walIngest.blocksRead(), walIngest.blocksHit(), walIngest.backendWrites(),
            walCopy.blocksRead(), walCopy.blocksHit(), walCopy.backendWrites());
      }
      out.flush();
      if (mismatch) {
        err.printf("MISMATCH: ingest gave votes %d, canvass %d, rejects %d; the generator expects votes %d, "
                + "canvass %d, rejects %d. Lines were lost or doubled: look at %s and the bench_ingest database%n",
            counts[0], counts[1], counts[2], gen.votes(), gen.canvass(), gen.rejects(), workDir.resolve("worker.log"));
        return 1;
      }
      return 0;
    }
  }

  /** The bench's databases, fresh and migrated, on the embedded server (stopped at close) or on --db-url's. */
  record Databases(EmbeddedPostgres pg, List<String> urls, String user, String password) implements AutoCloseable {
    @Override
    public void close() {
      if (pg != null && !pg.reused()) {
        pg.stop();
      }
    }
  }

  /** Drops and creates the databases {@code names} and migrates them; null (after saying why) on failure. */
  Databases freshDatabases(PrintWriter err, String... names) throws SQLException {
    EmbeddedPostgres pg = null;
    List<String> urls = new ArrayList<>();
    String user = blankToNull(dbUser);
    String password = blankToNull(dbPassword);
    if (dbUrl == null || dbUrl.isBlank()) {
      err.println("bench: starting the embedded PostgreSQL under " + workDir.resolve("pg") + " (port " + dbPort + ")");
      err.flush();
      pg = EmbeddedPostgres.builder().dataDir(workDir.resolve("pg")).port(dbPort).sharedBuffers(dbSharedBuffers).start();
      try (Connection c = pg.connect(EmbeddedPostgres.DATABASE)) {
        recreate(c, names);
      }
      for (String n : names) {
        urls.add(pg.jdbcUrl(n));
      }
      user = null;
      password = null;
    } else {
      try (Connection c = DriverManager.getConnection(dbUrl, props(user, password))) {
        recreate(c, names);
      } catch (SQLException e) {
        err.println("logtail bench: cannot create the bench databases on " + Database.redact(dbUrl) + ": "
            + e.getMessage() + " (the user needs CREATEDB; check --db-url/--db-user/--db-password)");
        return null;
      }
      for (String n : names) {
        urls.add(withDatabase(dbUrl, n));
      }
    }
    Databases dbs = new Databases(pg, urls, user, password);
    try {
      for (String u : urls) {
        try (Database d = Database.builder(u).user(user).password(password).maxPoolSize(2).build()) {
          d.migrate();
        }
      }
    } catch (RuntimeException e) {
      dbs.close();
      throw e;
    }
    return dbs;
  }

  Generated generate(Path log, PrintWriter err) throws IOException {
    Path side = workDir.resolve("access.log.gen");
    if (Files.exists(log) && Files.exists(side)) {
      Properties p = new Properties();
      try (InputStream is = Files.newInputStream(side)) {
        p.load(is);
      }
      Generated g = new Generated(Long.parseLong(p.getProperty("lines", "-1")), Long.parseLong(p.getProperty("seed", "-1")),
          Long.parseLong(p.getProperty("size", "-1")), Long.parseLong(p.getProperty("votes", "-1")),
          Long.parseLong(p.getProperty("canvass", "-1")), Long.parseLong(p.getProperty("rejects", "-1")));
      if (g.lines() == lines && g.seed() == seed && g.size() == Files.size(log)) {
        err.println("bench: reusing " + log + " (" + lines + " lines, seed " + seed + ")");
        return g;
      }
    }
    Files.deleteIfExists(side);
    err.println("bench: generating " + lines + " lines (seed " + seed + ") into " + log);
    err.flush();
    LogGenerator gen = new LogGenerator(seed, new LogGenerator.Mix());
    long t0 = System.nanoTime();
    try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(log), 1 << 20)) {
      for (long i = 0; i < lines; i++) {
        os.write(gen.nextLine().getBytes(StandardCharsets.UTF_8));
      }
    }
    LogGenerator.Expected e = gen.expected();
    Generated g = new Generated(lines, seed, Files.size(log), e.votes, e.canvass, e.rejected());
    Properties p = new Properties();
    p.setProperty("lines", Long.toString(g.lines()));
    p.setProperty("seed", Long.toString(g.seed()));
    p.setProperty("size", Long.toString(g.size()));
    p.setProperty("votes", Long.toString(g.votes()));
    p.setProperty("canvass", Long.toString(g.canvass()));
    p.setProperty("rejects", Long.toString(g.rejects()));
    try (OutputStream os = Files.newOutputStream(side)) {
      p.store(os, "logtail bench: what generated access.log, and the outcome the database must have");
    }
    err.printf(Locale.ROOT, "bench: generated %.1f MB in %.1f s%n", g.size() / 1e6, (System.nanoTime() - t0) / 1e9);
    return g;
  }

  record Ingest(double seconds, long peakRssKb, long rssKb, double cpuSeconds) {}

  /**
   * The server's WAL written (bytes, full-page images; {@code pg_stat_wal}) and checkpoints started
   * ({@code pg_stat_bgwriter}) so far: cluster-wide counters, so a difference over a phase is that phase's
   * (the bench's phases run one after the other). The WAL figures of other backends reach the view about once a second.
   */
  record WalStats(long bytes, long fpi, long checkpoints, long blocksRead, long blocksHit, long backendWrites) {
    static WalStats read(String url, String user, String password) throws SQLException {
      try (Connection c = DriverManager.getConnection(url, props(user, password));
          Statement st = c.createStatement();
          ResultSet rs = st.executeQuery("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn, w.wal_fpi,"
              + " b.checkpoints_timed + b.checkpoints_req, d.blks_read, d.blks_hit, b.buffers_backend"
              + " FROM pg_stat_wal w, pg_stat_bgwriter b, pg_stat_database d WHERE d.datname = current_database()")) {
        rs.next();
        return new WalStats(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4), rs.getLong(5), rs.getLong(6));
      }
    }

    WalStats minus(WalStats o) {
      return new WalStats(bytes - o.bytes, fpi - o.fpi, checkpoints - o.checkpoints, blocksRead - o.blocksRead,
          blocksHit - o.blocksHit, backendWrites - o.backendWrites);
    }
  }

  private Ingest ingest(Path log, long size, String url, String user, String password, Path workerDir,
      PrintWriter err) throws Exception {
    Path wlog = workDir.resolve("worker.log");
    ProcessBuilder pb = workerProcess(log, url, user, password, workerDir, wlog, false);
    err.println("bench: ingest by a worker JVM (log in " + wlog + ")...");
    err.flush();
    try (Connection c = DriverManager.getConnection(url, props(user, password))) {
      long t0 = System.nanoTime();
      Process p = launch(pb);
      try {
        long deadline = t0 + timeout.toNanos();
        long lastReport = t0;
        long committed = 0;
        while (true) {
          committed = queryLong(c, "SELECT coalesce(sum(committed_offset), 0) FROM sources");
          long now = System.nanoTime();
          if (committed >= size) {
            break;
          }
          if (!p.isAlive()) {
            err.println("logtail bench: the worker exited (status " + p.exitValue() + ") at " + committed + " of "
                + size + " bytes; see " + wlog);
            return null;
          }
          if (now > deadline) {
            err.println("logtail bench: ingest did not finish within --timeout " + timeout + " (" + committed + " of "
                + size + " bytes committed); see " + wlog);
            return null;
          }
          if (now - lastReport >= 5_000_000_000L) {
            lastReport = now;
            err.printf(Locale.ROOT, "  %.0f s: %.1f%% committed%n", (now - t0) / 1e9, 100.0 * committed / size);
            err.flush();
          }
          Thread.sleep(100);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        long pid = p.pid();
        long hwm = procStatusKb(pid, "VmHWM");
        long rss = procStatusKb(pid, "VmRSS");
        double cpu = cpuSeconds(pid);
        return new Ingest(seconds, hwm, rss, cpu);
      } finally {
        stopWorker(p, err);
      }
    }
  }

  /**
   * The worker as a child JVM: {@code java <this JVM's flags but -Xmx> -Xmx<--worker-heap> -cp <this class path>
   * io.logtail.worker.WorkerMain --log LOG --db-url URL --data-dir DIR --node-id bench <--worker-arg...>},
   * its output going to {@code wlog} (appended to when {@code append}).
   */
  ProcessBuilder workerProcess(Path log, String url, String user, String password, Path workerDir, Path wlog,
      boolean append) {
    return workerProcess(log, url, user, password, workerDir, wlog, append, "bench");
  }

  /** As above, for node {@code node}. */
  ProcessBuilder workerProcess(Path log, String url, String user, String password, Path workerDir, Path wlog,
      boolean append, String node) {
    ClassDataArchive archive = classData(workerDir);   // as run's admin process: a restart maps the classes of the first run
    List<String> args = new ArrayList<>(List.of("--log", log.toString(), "--db-url", url, "--data-dir",
        workerDir.toString(), "--node-id", node));
    args.addAll(workerArgs);
    List<String> cmd = WorkerJvm.command(WorkerJvm.ALL_BUT_HEAP_AND_DEBUGGER, workerHeap, archive, args);
    ProcessBuilder pb = new ProcessBuilder(cmd);
    launching.put(pb, archive);
    pb.environment().remove("LOGTAIL_DB_USER");
    pb.environment().remove("LOGTAIL_DB_PASSWORD");
    if (user != null) {
      pb.environment().put("LOGTAIL_DB_USER", user);
    }
    if (password != null) {
      pb.environment().put("LOGTAIL_DB_PASSWORD", password);
    }
    pb.redirectErrorStream(true).redirectOutput(append ? ProcessBuilder.Redirect.appendTo(wlog.toFile())
        : ProcessBuilder.Redirect.to(wlog.toFile()));
    return pb;
  }

  private final Map<Path, ClassDataArchive> classData = new HashMap<>();
  private final Map<ProcessBuilder, ClassDataArchive> launching =
      new IdentityHashMap<>();

  private ClassDataArchive classData(Path workerDir) {
    return classData.computeIfAbsent(workerDir.toAbsolutePath().normalize(), ClassDataArchive::inDataDir);
  }

  /** Starts a worker built by {@link #workerProcess}: its class-data archive is kept when it exits cleanly. */
  Process launch(ProcessBuilder pb) throws IOException {
    Process p = pb.start();
    ClassDataArchive a = launching.remove(pb);
    if (a != null) {
      a.started(p);
    }
    return p;
  }

  /** SIGTERM (the worker commits what it holds and syncs the binlog), then waits; kills it after 60 s. */
  static int stopWorker(Process p, PrintWriter err) throws InterruptedException {
    p.destroy();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      err.println("bench: the worker did not stop within 60 s of SIGTERM; killing it");
      p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      return -1;
    }
    return p.exitValue();
  }

  /** A field of /proc/PID/status in kB (VmHWM: the peak RSS), or -1; also used by the tests (LargeBacklogIT). */
  public static long procStatusKb(long pid, String field) {
    try {
      for (String l : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
        if (l.startsWith(field + ":")) {
          return Long.parseLong(l.substring(field.length() + 1).trim().split("\\s+")[0]);
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux, or the process is gone
    }
    return -1;
  }

  /** utime + stime of /proc/PID/stat in seconds, assuming 100 clock ticks a second. */
  static double cpuSeconds(long pid) {
    try {
      String s = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
      // after "pid (comm) ", fields start at 3 (state): utime is field 14, stime 15
      return (Long.parseLong(f[14 - 3]) + Long.parseLong(f[15 - 3])) / 100.0;
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  private static void recreate(Connection c, String... names) throws SQLException {
    c.setAutoCommit(true);
    try (Statement st = c.createStatement()) {
      for (String db : names) {
        st.execute("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
        st.execute("CREATE DATABASE " + db);
      }
    }
  }

  /** The URL with its database name replaced. */
  static String withDatabase(String url, String db) {
    String prefix = "jdbc:postgresql://";
    if (!url.startsWith(prefix)) {
      throw new IllegalArgumentException("--db-url must look like jdbc:postgresql://host:port/database; was "
          + Database.redact(url));
    }
    int q = url.indexOf('?');
    String base = q < 0 ? url : url.substring(0, q);
    String query = q < 0 ? "" : url.substring(q);
    int slash = base.indexOf('/', prefix.length());
    String hostPart = slash < 0 ? base : base.substring(0, slash);
    return hostPart + "/" + db + query;
  }

  static Properties props(String user, String password) {
    Properties p = new Properties();
    if (user != null) {
      p.setProperty("user", user);
    }
    if (password != null) {
      p.setProperty("password", password);
    }
    return p;
  }

  static long queryLong(Connection c, String sql) throws SQLException {
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s;
  }

  /** Deletes {@code dir} and all under it but {@code keep} (a directory in it) and what is under that. */
  static void deleteTreeExcept(Path dir, Path keep) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        if (!p.startsWith(keep) && !p.equals(dir)) {
          Files.delete(p);
        }
      }
    }
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
