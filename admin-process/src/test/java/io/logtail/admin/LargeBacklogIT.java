package io.logtail.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.logtail.cli.BenchCommand;
import io.logtail.db.Database;
import io.logtail.db.TestDatabase;
import io.logtail.gen.LogGenerator;
import io.logtail.worker.DbAssert;
import java.io.BufferedOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A large backlog drains with bounded memory: a log written in full before the worker starts (as after an outage
 * of logtail) is ingested by a worker JVM with the admin's default heap ({@code --worker-heap 192m}); its peak RSS
 * ({@code VmHWM} of {@code /proc/PID/status}, kept by the kernel over the process's life) must stay under 300 MB,
 * and the database must equal the generator's expectation, with {@code logtail verify} agreeing.
 *
 * <p>CI: 1.5 M lines (about 310 MB). {@code -Dlogtail.soak=true}: 10.5 M lines (about 2.2 GB, over 2 GiB); or
 * {@code -Dlogtail.backlog.lines=N}.
 */
class LargeBacklogIT {
  static final long LINES = Long.getLong("logtail.backlog.lines", TortureSupport.SOAK ? 10_500_000L : 1_500_000L);
  /** The admin's default {@code --worker-heap} (AdminOptions). */
  static final String WORKER_HEAP = "192m";
  static final long RSS_LIMIT_KB = 300L * 1024;

  @TempDir Path dir;

  @Test
  void backlogDrainsWithBoundedMemory() throws Exception {
    String url = TestDatabase.createDatabase("large_backlog");
    Path log = dir.resolve("access.log");
    LogGenerator gen = new LogGenerator(41, new LogGenerator.Mix());
    long t0 = System.nanoTime();
    try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(log), 1 << 20)) {
      for (long i = 0; i < LINES; i++) {
        os.write(gen.nextLine().getBytes(StandardCharsets.UTF_8));
      }
    }
    long size = Files.size(log);
    double generated = (System.nanoTime() - t0) / 1e9;
    try (Database db = Database.builder(url).build()) {
      db.migrate();
      List<String> cmd = new ArrayList<>();
      for (String a : AdminProcessIT.javaCommand("io.logtail.worker.WorkerMain")) {
        cmd.add(a.startsWith("-Xmx") ? "-Xmx" + WORKER_HEAP : a);
      }
      cmd.addAll(List.of("--log", dir.resolve("access.log*").toString(), "--db-url", url,
          "--data-dir", dir.resolve("data").toString(), "--node-id", "backlog"));
      long t1 = System.nanoTime();
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.to(dir.resolve("worker.log").toFile())).start();
      long peakKb;
      try {
        DbAssert.await(Duration.ofMinutes(TortureSupport.SOAK ? 30 : 6), "all " + size + " bytes committed",
            () -> !p.isAlive() || DbAssert.query(db.dataSource(),
                "SELECT coalesce(sum(committed_offset),0) FROM sources") == size);
        assertTrue(p.isAlive(), "the worker is still running after the drain");
        peakKb = BenchCommand.procStatusKb(p.pid(), "VmHWM");
      } finally {
        p.destroy();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "worker stops on SIGTERM");
      }
      double drained = (System.nanoTime() - t1) / 1e9;
      System.out.printf("LargeBacklogIT: %d lines, %.1f MB generated in %.1f s; drained in %.1f s (%.0f lines/s)"
              + " by a worker with -Xmx%s; peak RSS %.1f MB%n", LINES, size / 1e6, generated, drained,
          LINES / drained, WORKER_HEAP, peakKb / 1024.0);
      assertEquals(0, p.exitValue(), "clean exit after SIGTERM");
      assertTrue(peakKb > 0, "VmHWM read from /proc/" + p.pid() + "/status");
      assertTrue(peakKb < RSS_LIMIT_KB, "worker peak RSS " + peakKb / 1024 + " MB, limit 300 MB");
      DbAssert.assertMatches(db.dataSource(), gen.expected());
      TortureSupport.Run v = TortureSupport.verify(url, dir.resolve("access.log*").toString(), "backlog");
      assertEquals(0, v.exit(), v.out());
      assertTrue(v.out().contains("AGREE"), v.out());
    }
  }
}
