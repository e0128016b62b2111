package io.logtail.cli;

import io.logtail.gen.BalancerSplit;
import java.io.BufferedOutputStream;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;

/**
 * {@code logtail bench --nodes N}: total throughput of N nodes into one database. The generated log
 * of {@code --lines} lines (the same as the single-node bench's) is split as the shipped balancer
 * splits it (votes by voter, the rest by eid: {@link BalancerSplit}) into N logs; N worker JVMs, one
 * node each, ingest them into one fresh database; the time is from the launch of the first worker
 * until every log is committed. Meanwhile the database's backends are sampled every 10 ms in
 * {@code pg_stat_activity}: what they wait on (nothing: on CPU; WAL writes and syncs; I/O; lightweight
 * locks; heavyweight locks, which must be none) says where the limit lies, together with the
 * machine's CPU use over the run ({@code /proc/stat}) and the workers' CPU time.
 */
final class NodesBench implements Callable<Integer> {
  private final BenchCommand o;
  private final PrintWriter out;
  private final PrintWriter err;

  NodesBench(BenchCommand options, PrintWriter out, PrintWriter err) {
    this.o = options;
    this.out = out;
    this.err = err;
  }

  @Override
  public Integer call() throws Exception {
    int n = o.nodes;
    if (n < 1 || n > 16) {
      err.println("logtail bench: --nodes must be 1..16; was " + n);
      return 2;
    }
    if (o.lines < 1) {
      err.println("logtail bench: --lines must be at least 1; was " + o.lines);
      return 2;
    }
    o.workDir = o.workDir.toAbsolutePath();
    Files.createDirectories(o.workDir);
    Path whole = o.workDir.resolve("access.log");
    BenchCommand.Generated gen = o.generate(whole, err);
    Path base = o.workDir.resolve("nodes-" + n);
    BenchCommand.deleteTree(base);
    List<Path> logs = split(whole, base, n);
    long[] sizes = new long[n];
    long total = 0;
    for (int i = 0; i < n; i++) {
      sizes[i] = Files.size(logs.get(i));
      total += sizes[i];
    }

    try (BenchCommand.Databases dbs = o.freshDatabases(err, "bench_nodes")) {
      if (dbs == null) {
        return 1;
      }
      String url = dbs.urls().get(0);
      List<Process> workers = new ArrayList<>();
      Map<String, Long> waits = new TreeMap<>();
      long samples = 0;
      long lockSamples = 0;
      List<String> lockWaits = new ArrayList<>();
      double seconds;
      long[] cpu0 = machineCpu();
      double workerCpu = 0;
      err.println("bench: " + n + " node(s) into one database, " + gen.lines() + " lines split by voter/eid...");
      err.flush();
      try (Connection c = DriverManager.getConnection(url, BenchCommand.props(dbs.user(), dbs.password()));
          Statement st = c.createStatement()) {
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
          Path dir = base.resolve("node-" + (i + 1));
          workers.add(o.launch(o.workerProcess(logs.get(i), url, dbs.user(), dbs.password(), dir.resolve("data"),
              dir.resolve("worker.log"), false, "bench-" + (i + 1))));
        }
        long deadline = t0 + o.timeout.toNanos();
        long nextCheck = 0;
        try {
          while (true) {
            long now = System.nanoTime();
            if (now >= nextCheck) {
              nextCheck = now + 100_000_000L;
              if (BenchCommand.queryLong(c, "SELECT coalesce(sum(committed_offset), 0) FROM sources") >= total) {
                break;
              }
              for (int i = 0; i < n; i++) {
                if (!workers.get(i).isAlive()) {
                  err.println("logtail bench: worker of node bench-" + (i + 1) + " exited (status "
                      + workers.get(i).exitValue() + "); see " + base.resolve("node-" + (i + 1)).resolve("worker.log"));
                  return 1;
                }
              }
              if (now > deadline) {
                err.println("logtail bench: ingest did not finish within --timeout " + o.timeout);
                return 1;
              }
            }
            try (ResultSet rs = st.executeQuery("SELECT coalesce(wait_event_type, 'CPU'), coalesce(wait_event, 'running'),"
                + " pid, left(query, 120) FROM pg_stat_activity WHERE datname = current_database()"
                + " AND pid <> pg_backend_pid() AND state = 'active'")) {
              boolean lock = false;
              while (rs.next()) {
                waits.merge(rs.getString(1) + ":" + rs.getString(2), 1L, Long::sum);
                if (rs.getString(1).equals("Lock")) {
                  lock = true;
                  if (lockWaits.size() < 10) {
                    lockWaits.add("pid " + rs.getInt(3) + " " + rs.getString(2) + ": " + rs.getString(4));
                  }
                }
              }
              samples++;
              lockSamples += lock ? 1 : 0;
            }
            Thread.sleep(10);
          }
          seconds = (System.nanoTime() - t0) / 1e9;
          for (Process p : workers) {
            double s = BenchCommand.cpuSeconds(p.pid());
            workerCpu += Math.max(0, s);
          }
        } finally {
          for (Process p : workers) {
            BenchCommand.stopWorker(p, err);
          }
        }
      }
      long[] cpu1 = machineCpu();
      double busy = cpu1[1] - cpu0[1] <= 0 ? -1 : 100.0 * (cpu1[0] - cpu0[0]) / (cpu1[1] - cpu0[1]);
      long activeSamples = waits.values().stream().mapToLong(Long::longValue).sum();
      out.printf(Locale.ROOT, "nodes            %d into one database (logs split by voter / eid, as systemd/nginx-balancer.conf)%n", n);
      out.printf(Locale.ROOT, "lines            %d (seed %d), %.1f MB%n", gen.lines(), o.seed, total / 1e6);
      out.printf(Locale.ROOT, "ingest           %.2f s  (%.0f lines/s in total)%n", seconds, gen.lines() / seconds);
      StringBuilder per = new StringBuilder();
      for (int i = 0; i < n; i++) {
        per.append(String.format(Locale.ROOT, "%sbench-%d %.1f MB", i == 0 ? "" : ", ", i + 1, sizes[i] / 1e6));
      }
      out.println("per node         " + per);
      out.printf(Locale.ROOT, "workers' CPU     %.2f s (%.0f%% of one core over the run)%n", workerCpu, 100 * workerCpu / seconds);
      out.printf(Locale.ROOT, "machine CPU      %.0f%% busy (all cores, all processes of the machine, /proc/stat)%n", busy);
      out.printf(Locale.ROOT, "backends         %d samples every 10 ms, %.2f active backends on average; of their time:%n",
          samples, activeSamples / (double) Math.max(1, samples));
      waits.entrySet().stream().sorted((a, b) -> Long.compare(b.getValue(), a.getValue())).limit(10).forEach(e ->
          out.printf(Locale.ROOT, "                   %5.1f%%  %s%n", 100.0 * e.getValue() / Math.max(1, activeSamples), e.getKey()));
      out.printf(Locale.ROOT, "lock waits       %d of %d samples (wait_event_type Lock)%s%n", lockSamples, samples,
          lockWaits.isEmpty() ? "" : ": " + lockWaits);
      try (Connection c = DriverManager.getConnection(url, BenchCommand.props(dbs.user(), dbs.password()))) {
        long votes = BenchCommand.queryLong(c, "SELECT count(*) FROM votes");
        long canvass = BenchCommand.queryLong(c, "SELECT count(*) FROM canvass_records");
        long rejects = BenchCommand.queryLong(c, "SELECT count(*) FROM rejects");
        out.printf(Locale.ROOT, "rows             votes %d, canvass %d, rejects %d%n", votes, canvass, rejects);
        out.flush();
        if (votes != gen.votes() || canvass != gen.canvass() || rejects != gen.rejects()) {
          err.printf("MISMATCH: the generator expects votes %d, canvass %d, rejects %d%n", gen.votes(), gen.canvass(),
              gen.rejects());
          return 1;
        }
      }
      return 0;
    }
  }

  /** Splits the log into one per node, as the balancer would; returns their paths. */
  private List<Path> split(Path whole, Path base, int n) throws IOException {
    List<Path> logs = new ArrayList<>();
    List<OutputStream> outs = new ArrayList<>();
    try {
      for (int i = 0; i < n; i++) {
        Path p = base.resolve("node-" + (i + 1)).resolve("access.log");
        Files.createDirectories(p.getParent());
        logs.add(p);
        outs.add(new BufferedOutputStream(Files.newOutputStream(p), 1 << 20));
      }
      try (BufferedReader r = Files.newBufferedReader(whole, StandardCharsets.UTF_8)) {
        for (String line = r.readLine(); line != null; line = r.readLine()) {
          OutputStream os = outs.get(BalancerSplit.nodeOf(line, n));
          os.write(line.getBytes(StandardCharsets.UTF_8));
          os.write('\n');
        }
      }
    } finally {
      for (OutputStream os : outs) {
        os.close();
      }
    }
    return logs;
  }

  /** {busy, total} jiffies of all CPUs, from the first line of /proc/stat ({-1, -1} elsewhere). */
  private static long[] machineCpu() {
    try {
      String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
      long total = 0;
      for (int i = 1; i < f.length; i++) total += Long.parseLong(f[i]);
      long idle = Long.parseLong(f[4]) + (f.length > 5 ? Long.parseLong(f[5]) : 0);
      return new long[] {total - idle, total};
    } catch (IOException | RuntimeException e) {
      return new long[] {-1, -1};
    }
  }
}
