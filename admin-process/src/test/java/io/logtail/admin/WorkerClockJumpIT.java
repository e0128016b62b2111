package io.logtail.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.logtail.binlog.Binlog;
import io.logtail.binlog.BinlogConfig;
import io.logtail.binlog.BinlogFilter;
import io.logtail.db.Database;
import io.logtail.db.TestDatabase;
import io.logtail.gen.LogGenerator;
import io.logtail.worker.DbAssert;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * The system clock of a real worker JVM set back an hour, and later forward two hours, in the middle of an ingest
 * (libfaketime: Debian package {@code faketime}, which run-tests installs; the monotonic clock is left alone, as
 * with a real {@code date -s}). The worker must go on committing batches at once after each jump (batching and the
 * binlog's sync do not stall), its status file must keep being rewritten with a rate that is not frozen, and the
 * end must be exact: {@code logtail verify} agrees, the database equals the generator's expectation, and the binlog
 * holds every batch once, in order. A missing libfaketime fails the test.
 */
class WorkerClockJumpIT {
  static final Path LIBFAKETIME = Path.of("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1");
  static final String NODE = "clock-jump";

  @TempDir(cleanup = CleanupMode.ON_SUCCESS) Path dir;

  @Test
  void clockSetBackAndForwardDuringIngest() throws Exception {
    assertTrue(Files.exists(LIBFAKETIME), LIBFAKETIME + " missing: apt-get install faketime (run-tests does, as root)");
    String url = TestDatabase.createDatabase("clock_jump");
    Path offset = dir.resolve("faketime");
    Files.writeString(offset, "+0\n");
    Path status = dir.resolve("worker-status.json");
    TortureSupport.Nginx nginx = new TortureSupport.Nginx(dir.resolve("access.log"),
        new LogGenerator(43, new LogGenerator.Mix()), 4_000, 15_000);
    try (Database db = Database.builder(url).build()) {
      db.migrate();
      List<String> cmd = AdminProcessIT.javaCommand("io.logtail.worker.WorkerMain");
      cmd.addAll(List.of("--log", dir.resolve("access.log*").toString(), "--db-url", url,
          "--data-dir", dir.resolve("data").toString(), "--node-id", NODE, "--flush-interval", "100ms",
          "--batch-lines", "2000", "--status-file", status.toString()));
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("worker.log").toFile()));
      pb.environment().put("LD_PRELOAD", LIBFAKETIME.toString());
      pb.environment().put("FAKETIME_TIMESTAMP_FILE", offset.toString());
      // re-read the offset file at most once a second: without the cache every time call of the JVM reads it
      // (measured: the worker's start took over a minute)
      pb.environment().put("FAKETIME_CACHE_DURATION", "1");
      pb.environment().put("FAKETIME_DONT_FAKE_MONOTONIC", "1");
      // nor file times: a clock set with date -s does not move the mtimes of files already written (libfaketime
      // would shift what stat() returns by the offset, and only for some of the JVM's stat calls)
      pb.environment().put("NO_FAKE_STAT", "1");
      Process p = pb.start();
      List<String> seen = new ArrayList<>();
      try {
        awaitBatches(db, 5);
        long before = writtenAt(status);
        Files.writeString(offset, "-1h\n");
        // the status file is rewritten with a time an hour earlier, and batches keep being committed at once
        AdminTestSupport.await(Duration.ofSeconds(30), "a status written after the clock went back an hour",
            () -> writtenAt(status) < before - 3_000_000L, () -> Files.readString(status));
        double rate = rowsPerSecond(status);
        awaitBatches(db, 10);
        // a rate measured on the wall clock froze for as long as the clock was set back (an hour here)
        AdminTestSupport.await(Duration.ofSeconds(30), "a new commit rate measured after the jump",
            () -> rowsPerSecond(status) > 0 && rowsPerSecond(status) != rate, () -> Files.readString(status));
        seen.add("back: written_at " + before + " -> " + writtenAt(status) + ", rows_per_s " + rowsPerSecond(status));
        long back = writtenAt(status);
        Files.writeString(offset, "+1h\n");
        AdminTestSupport.await(Duration.ofSeconds(30), "a status written after the clock went forward two hours",
            () -> writtenAt(status) > back + 7_000_000L, () -> Files.readString(status));
        awaitBatches(db, 10);
        seen.add("forward: written_at " + writtenAt(status) + ", rows_per_s " + rowsPerSecond(status));
        nginx.stop();
        long total = nginx.written();
        DbAssert.await(Duration.ofMinutes(3), "all " + total + " bytes committed",
            () -> DbAssert.query(db.dataSource(), "SELECT coalesce(sum(committed_offset),0) FROM sources") == total);
        assertTrue(p.isAlive(), "the worker ran through both jumps");
      } finally {
        p.destroy();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "worker stops on SIGTERM");
      }
      assertEquals(0, p.exitValue(), "clean exit after SIGTERM");
      System.out.println("WorkerClockJumpIT: " + seen + "; " + nginx.lines + " lines, " + nginx.renames + " renames, "
          + nginx.copytruncates + " copytruncates");
      TortureSupport.Run v = TortureSupport.verify(url, dir.resolve("access.log*").toString(), NODE);
      assertEquals(0, v.exit(), v.out());
      assertTrue(v.out().contains("AGREE"), v.out());
      DbAssert.assertMatches(db.dataSource(), nginx.gen.expected());
      List<Long> ids = new ArrayList<>();
      try (Binlog b = Binlog.open(dir.resolve("data").resolve("binlog"), BinlogConfig.defaults().withReadOnly(true));
          Binlog.BinlogCursor c = b.read(BinlogFilter.all(), false)) {
        while (c.hasNext()) {
          ids.add(c.next().record().batchId());
        }
      }
      long batches = DbAssert.query(db.dataSource(), "SELECT count(*) FROM batches");
      List<Long> expected = new ArrayList<>();
      for (long i = 1; i <= batches; i++) {
        expected.add(i);
      }
      assertEquals(expected, ids, "the binlog holds every batch once, in order");
    } finally {
      nginx.close();
    }
  }

  private static void awaitBatches(Database db, long n) {
    long target = DbAssert.query(db.dataSource(), "SELECT count(*) FROM batches") + n;
    DbAssert.await(Duration.ofSeconds(60), n + " more batches committed",
        () -> DbAssert.query(db.dataSource(), "SELECT count(*) FROM batches") >= target);
  }

  private static JsonNode read(Path status) {
    try {
      return AdminTestSupport.JSON.readTree(status.toFile());
    } catch (Exception e) {
      return AdminTestSupport.JSON.createObjectNode();   // being replaced: next poll
    }
  }

  private static long writtenAt(Path status) {
    return read(status).path("written_at").asLong();
  }

  private static double rowsPerSecond(Path status) {
    return read(status).path("flush").path("rows_per_s").asDouble();
  }
}
