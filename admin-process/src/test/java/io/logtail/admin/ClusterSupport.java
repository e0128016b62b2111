package io.logtail.admin;

import io.logtail.cli.LogtailCli;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import picocli.CommandLine;

/** The multi-node tests' shared parts: worker processes per node, the lock sampler, verify over all nodes. */
public final class ClusterSupport {
  private ClusterSupport() {}

  /** A worker JVM ({@code WorkerMain}) of node {@code node} tailing {@code logGlob}; output appended to {@code out}. */
  public static Process startWorker(String url, String node, String logGlob, Path dataDir, Path out, String... extra)
      throws Exception {
    return startWorker(url, node, logGlob, dataDir, out, 5000, extra);
  }

  /** As above, with batches of {@code batchLines} lines. */
  public static Process startWorker(String url, String node, String logGlob, Path dataDir, Path out, int batchLines,
      String... extra) throws Exception {
    List<String> cmd = AdminProcessIT.javaCommand("io.logtail.worker.WorkerMain");
    cmd.addAll(List.of("--log", logGlob, "--db-url", url, "--data-dir", dataDir.toString(), "--node-id", node,
        "--flush-interval", "100ms", "--batch-lines", Integer.toString(batchLines)));
    cmd.addAll(List.of(extra));
    return new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(out.toFile())).start();
  }

  /**
   * Samples {@code pg_stat_activity} of one database every few milliseconds, on a connection of its
   * own, and keeps every backend it saw waiting on a heavyweight lock ({@code wait_event_type =
   * 'Lock'}), with what it waited for and who blocked it. Waits for the relation extension lock
   * ({@code wait_event = 'extend'}: two backends adding pages to one table or index at the same
   * moment; held for the allocation of the pages only, never to a commit, and not a lock on any row
   * of logtail's) are counted apart in {@link #extendWaits}: PostgreSQL takes it whenever several
   * sessions append to one table, and nothing in logtail's SQL can avoid it (docs/scale-out.md).
   */
  public static final class LockSampler implements AutoCloseable {
    private static final String SQL = """
        SELECT a.pid, a.application_name, a.wait_event, a.state, left(a.query, 160), pg_blocking_pids(a.pid)::text,
          (SELECT string_agg(l.locktype || coalesce(' ' || l.relation::regclass::text, '') || ' ' || l.mode, ', ')
           FROM pg_locks l WHERE l.pid = a.pid AND NOT l.granted),
          (SELECT string_agg(b.pid || ' ' || b.backend_type || ' (' || coalesce(b.application_name, '') || ') '
             || coalesce(b.state, '') || ': ' || left(b.query, 120), '; ')
           FROM pg_stat_activity b WHERE b.pid = ANY (pg_blocking_pids(a.pid)))
        FROM pg_stat_activity a
        WHERE a.datname = current_database() AND a.pid <> pg_backend_pid() AND a.wait_event_type = 'Lock'""";
    private final Thread thread;
    private final AtomicBoolean stop = new AtomicBoolean();
    public final AtomicLong samples = new AtomicLong();
    public final AtomicLong busySamples = new AtomicLong(); // samples that saw an active backend of the nodes
    public final List<String> waits = java.util.Collections.synchronizedList(new ArrayList<>());
    public final AtomicLong extendWaits = new AtomicLong();
    /** Relation extension waits by the lock waited for ("extend votes ExclusiveLock"). */
    public final java.util.Map<String, Integer> extendWaitsOn = new java.util.concurrent.ConcurrentHashMap<>();
    private volatile Throwable error;

    public LockSampler(String url) {
      thread = new Thread(() -> {
        try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement()) {
          while (!stop.get()) {
            try (ResultSet rs = st.executeQuery(SQL)) {
              while (rs.next()) {
                if ("extend".equals(rs.getString(3))) {
                  extendWaits.incrementAndGet();
                  extendWaitsOn.merge(String.valueOf(rs.getString(7)), 1, Integer::sum);
                } else if (waits.size() < 100) {
                  waits.add("pid " + rs.getInt(1) + " (" + rs.getString(2) + ") waits on lock " + rs.getString(3)
                      + " [" + rs.getString(7) + "] held by " + rs.getString(6) + " [" + rs.getString(8) + "], "
                      + rs.getString(4) + ": " + rs.getString(5));
                }
              }
            }
            try (ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                + " AND pid <> pg_backend_pid() AND state = 'active'")) {
              rs.next();
              if (rs.getLong(1) > 0) {
                busySamples.incrementAndGet();
              }
            }
            samples.incrementAndGet();
            LockSupport.parkNanos(2_000_000L);
          }
        } catch (Throwable t) {
          error = t;
        }
      }, "lock-sampler");
      thread.setDaemon(true);
      thread.start();
    }

    @Override
    public void close() throws Exception {
      stop.set(true);
      thread.join(10_000);
      if (error != null) {
        throw new AssertionError("the lock sampler failed", error);
      }
    }
  }

  public record Run(int exit, String out) {}

  /** {@code logtail} with {@code args}, in this JVM. */
  public static Run cli(String... args) {
    CommandLine cl = LogtailCli.commandLine();
    StringWriter out = new StringWriter();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(out, true));
    int exit = cl.execute(args);
    return new Run(exit, out.toString());
  }

  /** {@code logtail verify --db-url url --node-id n1 --log g1 --node-id n2 --log g2 ...}. */
  public static Run verifyAll(String url, List<String> nodes, List<String> globs) {
    List<String> a = new ArrayList<>(List.of("verify", "--db-url", url, "--no-progress"));
    for (int i = 0; i < nodes.size(); i++) {
      a.addAll(List.of("--node-id", nodes.get(i), "--log", globs.get(i)));
    }
    return cli(a.toArray(String[]::new));
  }

  public static long queryLong(Connection c, String sql) throws SQLException {
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
