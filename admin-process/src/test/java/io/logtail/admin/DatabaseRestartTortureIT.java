package io.logtail.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.logtail.db.Database;
import io.logtail.db.EmbeddedPostgres;
import io.logtail.db.TestDatabase;
import io.logtail.gen.LogGenerator;
import io.logtail.worker.DbAssert;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * The kill torture with PostgreSQL in it: worker processes are SIGKILLed at random moments while a simulated nginx
 * writes and logrotate rotates (rename, copytruncate, gzip), and in between PostgreSQL (an embedded server of this
 * test's own) is restarted under a running worker, every third round, and once made unreachable for a while (8 s in
 * CI, 30 s with {@code -Dlogtail.soak=true}) with a worker running, which must ride it out (still alive when the
 * server is back, then killed like the others). After a last clean run: {@code logtail verify} agrees and the database equals the generator's
 * expectation.
 *
 * <p>CI: 12 kills; soak: 50 (or {@code -Dlogtail.torture.dbKills=N}).
 */
class DatabaseRestartTortureIT {
  static final int KILLS = Integer.getInteger("logtail.torture.dbKills", TortureSupport.SOAK ? 50 : 12);
  static final int OUTAGE_SECONDS = TortureSupport.SOAK ? 30 : 8;
  static final String NODE = "db-torture";

  @TempDir(cleanup = CleanupMode.ON_SUCCESS) Path dir;

  @Test
  void workerKillsAndDatabaseRestartsInterleavedDuringIngest() throws Exception {
    long t0 = System.nanoTime();
    EmbeddedPostgres.Config pgc = EmbeddedPostgres.builder().dataDir(dir.resolve("pg"))
        .binariesCacheDir(TestDatabase.binariesCacheDir()).port(TestDatabase.freePort()).build();
    EmbeddedPostgres pg = EmbeddedPostgres.start(pgc);
    String url = pg.jdbcUrl();
    Random rnd = new Random(20261206L);
    List<Integer> exits = new ArrayList<>();
    int restarts = 0;
    int outages = 0;
    boolean rodeOutOutage = false;
    TortureSupport.Nginx nginx = new TortureSupport.Nginx(dir.resolve("access.log"),
        new LogGenerator(37, new LogGenerator.Mix()), 5_000, 20_000);
    try (Database db = Database.builder(url).connectionTimeout(Duration.ofSeconds(2)).build()) {
      db.migrate();
      String committed = "SELECT coalesce(sum(committed_offset),0) FROM sources";
      int rounds = 0;
      int midIngest = 0;
      while (midIngest < KILLS && rounds < 4 * KILLS) {
        long startsBefore = TortureSupport.resumed(dir);
        Process p = TortureSupport.startWorker(dir, url, NODE);
        DbAssert.await(Duration.ofMinutes(1), "worker start", () -> TortureSupport.resumed(dir) > startsBefore || !p.isAlive());
        if (rounds % 3 == 1 && p.isAlive()) {
          // PostgreSQL restarted under a running worker, at a random moment of its batches
          p.waitFor(200 + rnd.nextInt(800), TimeUnit.MILLISECONDS);
          pg.stop();
          pg = EmbeddedPostgres.start(pgc);
          restarts++;
        } else if (rounds == 5 && p.isAlive()) {
          // unreachable for a while: the worker rides it out
          pg.stop();
          outages++;
          assertTrue(!p.waitFor(OUTAGE_SECONDS, TimeUnit.SECONDS), "the worker stays up while PostgreSQL is away");
          pg = EmbeddedPostgres.start(pgc);
          rodeOutOutage = p.isAlive();
        }
        boolean exited = p.waitFor(300 + rnd.nextInt(1700), TimeUnit.MILLISECONDS);
        if (!exited) {
          long c = DbAssert.query(db.dataSource(), committed);
          if (c >= 0 && c < nginx.written()) {
            midIngest++;
          }
          p.destroyForcibly();
          p.waitFor(30, TimeUnit.SECONDS);
        }
        exits.add(p.exitValue());
        rounds++;
      }
      nginx.stop();
      long total = nginx.written();
      long killPhase = System.nanoTime();
      long startsBefore = TortureSupport.resumed(dir);
      Process last = TortureSupport.startWorker(dir, url, NODE);
      try {
        DbAssert.await(Duration.ofMinutes(1), "the final worker to start", () -> TortureSupport.resumed(dir) > startsBefore);
        DbAssert.await(Duration.ofMinutes(3), "all " + total + " bytes committed",
            () -> DbAssert.query(db.dataSource(), committed) == total);
      } finally {
        last.destroy();
        assertTrue(last.waitFor(60, TimeUnit.SECONDS), "worker stops on SIGTERM");
      }
      long killed = exits.stream().filter(e -> e == 137).count();
      System.out.printf("DatabaseRestartTortureIT: %d rounds, %d SIGKILLs (%d with bytes still to commit), %d PostgreSQL"
              + " restarts under a worker, %d outage of %d s ridden out: %s; %d lines, %d renames, %d copytruncates;"
              + " kill phase %.1f s, total %.1f s%n",
          rounds, killed, midIngest, restarts, outages, OUTAGE_SECONDS, rodeOutOutage, nginx.lines, nginx.renames,
          nginx.copytruncates, (killPhase - t0) / 1e9, (System.nanoTime() - t0) / 1e9);
      assertEquals(0, last.exitValue(), "clean exit after SIGTERM");
      assertTrue(midIngest >= KILLS, KILLS + " workers killed with bytes still to commit, was " + midIngest);
      assertTrue(restarts >= KILLS / 3, "PostgreSQL restarted under a worker " + restarts + " times");
      assertEquals(1, outages);
      assertTrue(rodeOutOutage, "the worker was still running when PostgreSQL came back");
      assertTrue(nginx.renames >= 1 && nginx.copytruncates >= 1, "both kinds of rotation");
      TortureSupport.Run v = TortureSupport.verify(url, dir.resolve("access.log*").toString(), NODE);
      assertEquals(0, v.exit(), v.out());
      assertTrue(v.out().contains("AGREE"), v.out());
      DbAssert.assertMatches(db.dataSource(), nginx.gen.expected());
    } finally {
      nginx.close();
      pg.stop();
    }
  }
}
