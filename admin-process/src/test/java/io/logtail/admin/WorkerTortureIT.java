package io.logtail.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.logtail.db.Database;
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
 * The worker, a process of its own, is killed with SIGKILL at least 50 times at random moments (during
 * its start-up and recovery, and during batches) while a simulated nginx keeps appending to the log and
 * logrotate rotates it every 25 000 lines, by rename + reopen and by copytruncate in turn, with
 * delaycompress (the second-newest file is gzipped while the worker may be reading it). The copytruncate
 * of the simulation is atomic with respect to its own writes, so no line is lost by it: every line
 * written must be in the database exactly once. After a last clean run: {@code logtail verify} agrees,
 * and the database equals the generator's independent expectation.
 *
 * <p>{@code -Dlogtail.soak=true} makes 200 kills (or {@code -Dlogtail.torture.workerKills=N}).
 */
class WorkerTortureIT {
  static final int KILLS = Integer.getInteger("logtail.torture.workerKills", TortureSupport.SOAK ? 200 : 50);
  static final String NODE = "torture";

  @TempDir(cleanup = CleanupMode.ON_SUCCESS) Path dir;

  @Test
  void killNineDuringIngestWithRenameCopytruncateAndGzip() throws Exception {
    long t0 = System.nanoTime();
    String url = TestDatabase.createDatabase("torture");
    Path log = dir.resolve("access.log");
    Random rnd = new Random(20261129L);
    List<Integer> exits = new ArrayList<>();
    TortureSupport.Nginx nginx = new TortureSupport.Nginx(log, new LogGenerator(31, new LogGenerator.Mix()), 6_000, 25_000);
    try (Database db = Database.builder(url).build()) {
      db.migrate();
      String committed = "SELECT coalesce(sum(committed_offset),0) FROM sources";
      int rounds = 0;
      int midIngest = 0;
      int progressed = 0;
      long before = 0;
      while (midIngest < KILLS && rounds < 3 * KILLS) {
        long startsBefore = TortureSupport.resumed(dir);
        Process p = TortureSupport.startWorker(dir, url, NODE);
        boolean exited;
        if (rounds % 2 == 0) {
          // a random moment after the launch: start-up, recovery, the first batches
          exited = p.waitFor(200 + rnd.nextInt(1800), TimeUnit.MILLISECONDS);
        } else {
          // a random moment after it resumed and committed its first batch: during batches. Waiting for
          // that commit (not a fixed delay) keeps these rounds during batches on a loaded machine too,
          // where a JVM can take longer than the delay to reach its first commit.
          long committedBefore = before;
          DbAssert.await(Duration.ofMinutes(1), "worker start", () -> TortureSupport.resumed(dir) > startsBefore || !p.isAlive());
          DbAssert.await(Duration.ofMinutes(1), "a batch of the resumed worker",
              () -> DbAssert.query(db.dataSource(), committed) > committedBefore || !p.isAlive());
          exited = p.waitFor(300 + rnd.nextInt(1700), TimeUnit.MILLISECONDS);
        }
        if (!exited) {
          if (DbAssert.query(db.dataSource(), committed) < nginx.written()) {
            midIngest++;
          }
          p.destroyForcibly();
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
      nginx.stop();
      long total = nginx.written();
      long committedBeforeFinal = DbAssert.query(db.dataSource(), committed);
      long killPhase = System.nanoTime();

      long startsBefore = TortureSupport.resumed(dir);
      Process last = TortureSupport.startWorker(dir, url, NODE);
      try {
        DbAssert.await(Duration.ofMinutes(1), "the final worker to start", () -> TortureSupport.resumed(dir) > startsBefore);
        DbAssert.await(Duration.ofMinutes(3), "all " + total + " bytes committed",
            () -> DbAssert.query(db.dataSource(), committed) == total);
      } finally {
        last.destroy();   // SIGTERM: clean stop
        assertTrue(last.waitFor(60, TimeUnit.SECONDS), "worker stops on SIGTERM");
      }
      long killed = exits.stream().filter(e -> e == 137).count();
      System.out.printf("WorkerTortureIT: %d rounds, %d SIGKILLs (%d with bytes still to commit), %d rounds committed "
              + "batches; %d lines, %d renames, %d copytruncates; %d of %d bytes committed before the last run; "
              + "kill phase %.1f s, total %.1f s%n",
          rounds, killed, midIngest, progressed, nginx.lines, nginx.renames, nginx.copytruncates,
          committedBeforeFinal, total, (killPhase - t0) / 1e9, (System.nanoTime() - t0) / 1e9);
      assertEquals(0, last.exitValue(), "clean exit after SIGTERM");
      assertTrue(midIngest >= KILLS, KILLS + " workers killed with bytes still to commit, was " + midIngest);
      assertTrue(killed >= KILLS, "at least " + KILLS + " workers ended by SIGKILL, exits: " + exits);
      assertTrue(progressed >= KILLS / 5, "killed workers committed batches in " + progressed + " of " + rounds + " rounds");
      assertTrue(nginx.renames >= 2 && nginx.copytruncates >= 2, "both kinds of rotation, twice at least");
      TortureSupport.Run v = TortureSupport.verify(url, dir.resolve("access.log*").toString(), NODE);
      assertEquals(0, v.exit(), v.out());
      assertTrue(v.out().contains("AGREE"), v.out());
      DbAssert.assertMatches(db.dataSource(), nginx.gen.expected());
    } finally {
      nginx.close();
    }
  }
}
