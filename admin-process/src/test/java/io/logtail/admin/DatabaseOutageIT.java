package io.logtail.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.logtail.db.Database;
import io.logtail.db.EmbeddedPostgres;
import io.logtail.db.TestDatabase;
import io.logtail.gen.LogGenerator;
import io.logtail.util.Ticker;
import io.logtail.worker.DbAssert;
import io.logtail.worker.FakeNginx;
import io.logtail.worker.Worker;
import io.logtail.worker.WorkerConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * PostgreSQL is stopped in the middle of an ingest and started again, once as a restart (started
 * again as soon as the worker noticed) and once unreachable for 30 s: the worker keeps running (no
 * restart), pauses reading while the database is away, shows the outage throughout, and afterwards
 * the database matches the log exactly: the generator's expectation, and {@code logtail verify} over the log and
 * its rotated files agrees. (In admin-process, beside the other fault tests, for {@code verify}.)
 */
class DatabaseOutageIT {
  @TempDir Path dir;

  @ParameterizedTest(name = "database down for {0} s after the worker noticed")
  @ValueSource(ints = {0, 30})
  void postgresStoppedAndRestartedMidRun(int downSeconds) throws Exception {
    EmbeddedPostgres.Config pgc = EmbeddedPostgres.builder().dataDir(dir.resolve("pg"))
        .binariesCacheDir(TestDatabase.binariesCacheDir()).port(TestDatabase.freePort()).build();
    EmbeddedPostgres pg = EmbeddedPostgres.start(pgc);
    LogGenerator gen = new LogGenerator(11, new LogGenerator.Mix());
    try (Database db = Database.builder(pg.jdbcUrl()).connectionTimeout(Duration.ofSeconds(2)).build();
        FakeNginx nginx = new FakeNginx(dir.resolve("access.log"))) {
      db.migrate();
      nginx.write(gen, 100_000);
      WorkerConfig cfg = new WorkerConfig().node("outage").addLog(dir.resolve("access.log*").toString())
          .binlogDir(dir.resolve("binlog")).flushInterval(Duration.ofMillis(50)).batchMaxLines(5_000);
      Worker w = new Worker(cfg, db.dataSource(), Ticker.system());
      w.start();
      try {
        DbAssert.await(Duration.ofSeconds(60), "some batches committed", () -> w.stats().batches.get() >= 3);
        pg.stop();
        nginx.write(gen, 100_000);
        DbAssert.await(Duration.ofSeconds(60), "the flusher to notice the outage",
            () -> !w.flusher().databaseReachable());
        assertFalse(w.isStopped(), "worker keeps running while the database is away");
        // unreachable for downSeconds: the worker stays up, without failure, and shows the outage all along
        long upAt = System.nanoTime() + downSeconds * 1_000_000_000L;
        while (System.nanoTime() < upAt) {
          assertFalse(w.isStopped(), "worker keeps running while the database is away");
          assertNull(w.failure(), "no worker failure during the outage");
          assertFalse(w.flusher().databaseReachable(), "the outage shows");
          LockSupport.parkNanos(200_000_000L);
        }
        long during = w.stats().lines.get();
        pg = EmbeddedPostgres.start(pgc);
        nginx.write(gen, 50_000);
        long total = nginx.written();
        DbAssert.await(Duration.ofSeconds(120), "all bytes committed after the outage",
            () -> DbAssert.query(db.dataSource(), "SELECT coalesce(sum(committed_offset),0) FROM sources") == total);
        assertTrue(w.flusher().databaseReachable(), "status shows the database reachable again");
        assertTrue(w.stats().lines.get() > during);
        assertNull(w.failure(), "no worker failure, no restart");
      } finally {
        w.close();
      }
      DbAssert.assertMatches(db.dataSource(), gen.expected());
      TortureSupport.Run v = TortureSupport.verify(pg.jdbcUrl(), dir.resolve("access.log*").toString(), "outage");
      assertEquals(0, v.exit(), v.out());
      assertTrue(v.out().contains("AGREE"), v.out());
    } finally {
      pg.stop();
    }
  }
}
