package io.logtail.admin;

import io.logtail.cli.LogtailCli;
import io.logtail.gen.LogGenerator;
import io.logtail.worker.FakeNginx;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;

/** The torture tests' shared parts: a paced nginx with logrotate, the verify command, the soak switch. */
final class TortureSupport {
  /** {@code -Dlogtail.soak=true}: the long run (more kills, more lines). */
  static final boolean SOAK = Boolean.getBoolean("logtail.soak");

  private TortureSupport() {}

  /**
   * Writes generated lines to {@code log} through a {@link FakeNginx} at {@code linesPerSecond} until
   * {@link #stop()}, rotating every {@code rotateEvery} lines, the kinds in turn: rename + reopen,
   * copytruncate (both with delaycompress: the file that becomes {@code .2} is gzipped).
   */
  static final class Nginx implements AutoCloseable {
    final FakeNginx nginx;
    final LogGenerator gen;
    private final Thread thread;
    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicReference<Throwable> error = new AtomicReference<>();
    volatile long lines;
    volatile int renames;
    volatile int copytruncates;

    Nginx(Path log, LogGenerator gen, int linesPerSecond, int rotateEvery) throws IOException {
      this.nginx = new FakeNginx(log);
      this.gen = gen;
      this.thread = new Thread(() -> {
        try {
          StringBuilder sb = new StringBuilder(1 << 20);
          long t0 = System.nanoTime();
          long nanosPerLine = 1_000_000_000L / linesPerSecond;
          long i = 0;
          while (!stop.get()) {
            for (int k = 0; k < 500; k++) {
              sb.append(gen.nextLine());
              i++;
              if (i % rotateEvery == 0) {
                nginx.write(sb.toString());
                sb.setLength(0);
                if ((i / rotateEvery) % 2 == 1) {
                  nginx.rotateRename();
                  renames++;
                } else {
                  nginx.rotateCopyTruncate();
                  copytruncates++;
                }
              }
            }
            nginx.write(sb.toString());
            sb.setLength(0);
            lines = i;
            long wait = t0 + i * nanosPerLine - System.nanoTime();
            if (wait > 0) {
              LockSupport.parkNanos(wait);
            }
          }
        } catch (Throwable t) {
          error.set(t);
        }
      }, "fake-nginx");
      thread.start();
    }

    /** Stops writing (every generated line is written) and rethrows a failure of the writer. */
    void stop() throws Exception {
      stop.set(true);
      thread.join();
      if (error.get() != null) {
        throw new AssertionError("fake nginx failed", error.get());
      }
    }

    long written() {
      return nginx.written();
    }

    @Override
    public void close() throws Exception {
      stop.set(true);
      thread.join();
      nginx.close();
    }
  }

  record Run(int exit, String out) {}

  /** {@code logtail verify} in this JVM. */
  static Run verify(String url, String glob, String node) {
    CommandLine cl = LogtailCli.commandLine();
    StringWriter out = new StringWriter();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(out, true));
    int exit = cl.execute("verify", "--log", glob, "--db-url", url, "--node-id", node, "--no-progress");
    return new Run(exit, out.toString());
  }

  /** The pids of the workers an admin log says were started, in order. */
  static List<Long> startedWorkers(Path adminLog) throws IOException {
    List<Long> pids = new ArrayList<>();
    if (!Files.exists(adminLog)) {
      return pids;
    }
    Matcher m = Pattern.compile("admin: started worker pid (\\d+)").matcher(Files.readString(adminLog, StandardCharsets.ISO_8859_1));
    while (m.find()) {
      pids.add(Long.parseLong(m.group(1)));
    }
    return pids;
  }

  /**
   * A worker JVM of {@code node} tailing {@code dir/access.log*}, data in {@code dir/data}, batches of
   * 2,000 lines, output appended to {@code dir/worker.log}: the worker every torture test kills.
   */
  static Process startWorker(Path dir, String url, String node) throws Exception {
    return ClusterSupport.startWorker(url, node, dir.resolve("access.log*").toString(), dir.resolve("data"),
        dir.resolve("worker.log"), 2000);
  }

  /** How many times a worker of {@link #startWorker} logged that it resumed (started its threads). */
  static long resumed(Path dir) {
    try (var lines = Files.lines(dir.resolve("worker.log"), StandardCharsets.ISO_8859_1)) {
      return lines.filter(l -> l.contains("resuming")).count();
    } catch (IOException e) {
      return 0;
    }
  }

  static long count(Path file, String text) throws IOException {
    if (!Files.exists(file)) {
      return 0;
    }
    String s = Files.readString(file, StandardCharsets.ISO_8859_1);
    long n = 0;
    for (int i = s.indexOf(text); i >= 0; i = s.indexOf(text, i + 1)) {
      n++;
    }
    return n;
  }
}
