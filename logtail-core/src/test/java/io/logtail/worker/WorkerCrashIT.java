package io.logtail.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.logtail.db.Database;
import io.logtail.db.TestDatabase;
import io.logtail.gen.LogGenerator;
import java.io.File;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The worker, a process of its own, is killed with SIGKILL 20 times at random moments while it ingests
 * a log of a million lines that nginx (simulated) keeps appending to and logrotate rotates twice
 * (rename + reopen, then delaycompress gzips the older file). After a last clean run the database must
 * match the log exactly: no event missing, none counted twice.
 */
class WorkerCrashIT {
  static final int LINES = 1_000_000;
  static final int KILLS = 20;

  @TempDir(cleanup = org.junit.jupiter.api.io.CleanupMode.ON_SUCCESS) Path dir;

  @Test
  void killNineTwentyTimesDuringIngestWithRotation() throws Exception {
    String url = TestDatabase.createDatabase("crash");
    Path log = dir.resolve("access.log");
    LogGenerator gen = new LogGenerator(7, new LogGenerator.Mix());
    AtomicReference<Throwable> writerError = new AtomicReference<>();
    FakeNginx nginx = new FakeNginx(log);
    Thread writer = new Thread(() -> {
      try {
        StringBuilder sb = new StringBuilder(1 << 20);
        long t0 = System.nanoTime();
        for (int i = 1; i <= LINES; i++) {
          sb.append(gen.nextLine());
          if (i % 2000 == 0) {
            nginx.write(sb.toString());
            sb.setLength(0);
            // pace at about 30k lines/s (33 s in all) so that kills and rotations happen during ingest
            long due = t0 + (long) i * 33_333L;
            long wait = due - System.nanoTime();
            if (wait > 0) {
              java.util.concurrent.locks.LockSupport.parkNanos(wait);
            }
          }
          if (i == LINES * 35 / 100 || i == LINES * 70 / 100) {
            nginx.write(sb.toString());
            sb.setLength(0);
            nginx.rotateRename();
          }
        }
        nginx.write(sb.toString());
      } catch (Throwable t) {
        writerError.set(t);
      }
    }, "fake-nginx");
    writer.start();

    Random rnd = new Random(20261123);
    List<Integer> exits = new ArrayList<>();
    try (Database db = Database.builder(url).build()) {
      db.migrate();
      int rounds = 0;
      int midIngest = 0;
      int progressed = 0;
      long before = 0;
      String committed = "SELECT coalesce(sum(committed_offset),0) FROM sources";
      // kill at random moments until 20 kills landed mid-ingest (bytes written but not yet committed):
      // every other round at a random time after launch (often during start-up and recovery), the
      // others at a random time after the worker said it resumed (during batches)
      while (midIngest < KILLS && rounds < 3 * KILLS) {
        long startsBefore = resumed();
        Process p = startWorker(url);
        boolean exited;
        if (rounds % 2 == 0) {
          exited = p.waitFor(300 + rnd.nextInt(2200), TimeUnit.MILLISECONDS);
        } else {
          DbAssert.await(Duration.ofMinutes(1), "worker start", () -> resumed() > startsBefore || !p.isAlive());
          exited = p.waitFor(200 + rnd.nextInt(2800), TimeUnit.MILLISECONDS);
        }
        if (!exited) {
          long atKill = DbAssert.query(db.dataSource(), committed);
          if (atKill < nginx.written()) {
            midIngest++;
          }
          p.toHandle().destroyForcibly();
          p.waitFor(30, TimeUnit.SECONDS);
        }
        exits.add(p.exitValue());
        long now = DbAssert.query(db.dataSource(), committed);
        if (now > before) {
          progressed++;
        }
        before = now;
        rounds++;
      }
      writer.join();
      assertEquals(null, writerError.get());
      long total = nginx.written();
      long committedBeforeFinal = DbAssert.query(db.dataSource(), "SELECT coalesce(sum(committed_offset),0) FROM sources");
      System.out.printf("WorkerCrashIT: %d rounds, %d kills mid-ingest, %d rounds committed batches, %d of %d bytes committed before the last run%n",
          rounds, midIngest, progressed, committedBeforeFinal, total);
      assertTrue(midIngest >= KILLS, KILLS + " workers killed with bytes still to commit, was " + midIngest
          + " in " + rounds + " rounds");
      assertTrue(progressed >= KILLS / 3, "killed workers committed batches in " + progressed + " of "
          + rounds + " rounds; committed " + committedBeforeFinal + " of " + total + " bytes before the last run");

      long startsBefore = resumed();
      Process last = startWorker(url);
      try {
        DbAssert.await(Duration.ofMinutes(1), "the final worker to start", () -> resumed() > startsBefore);
        DbAssert.await(Duration.ofMinutes(4), "all " + total + " bytes committed",
            () -> DbAssert.query(db.dataSource(), "SELECT coalesce(sum(committed_offset),0) FROM sources") == total);
      } finally {
        last.destroy(); // SIGTERM: clean stop
        assertTrue(last.waitFor(60, TimeUnit.SECONDS), "worker stops on SIGTERM");
      }
      assertEquals(0, last.exitValue(), "clean exit after SIGTERM");
      long killed = exits.stream().filter(e -> e == 137).count();
      assertTrue(killed >= KILLS, "at least " + KILLS + " workers ended by SIGKILL, exits: " + exits);
      DbAssert.assertMatches(db.dataSource(), gen.expected());
    } finally {
      nginx.close();
    }
  }

  private Process startWorker(String url) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (a.startsWith("--add-") || a.startsWith("-Dchronicle")) {
        cmd.add(a);
      }
    }
    cmd.add("-Xmx256m");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(WorkerMain.class.getName());
    cmd.addAll(List.of("--log", dir.resolve("access.log*").toString(), "--db-url", url,
        "--data-dir", dir.resolve("data").toString(), "--node-id", "crash", "--flush-interval", "100ms",
        "--batch-lines", "2000"));
    return new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("worker.log").toFile()))
        .start();
  }

  /** How many times a worker logged that it resumed (started its threads). */
  private long resumed() {
    try (var lines = java.nio.file.Files.lines(dir.resolve("worker.log"), java.nio.charset.StandardCharsets.ISO_8859_1)) {
      return lines.filter(l -> l.contains("resuming")).count();
    } catch (java.io.IOException e) {
      return 0;
    }
  }

  static String cp() {
    return System.getProperty("java.class.path").replace(':', File.pathSeparatorChar);
  }
}
