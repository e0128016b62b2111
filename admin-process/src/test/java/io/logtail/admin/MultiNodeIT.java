package io.logtail.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.logtail.cli.ClusterStatus;
import io.logtail.db.Database;
import io.logtail.db.TestDatabase;
import io.logtail.gen.BalancerSplit;
import io.logtail.gen.LogGenerator;
import io.logtail.worker.DbAssert;
import io.logtail.worker.FakeNginx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three nodes, one PostgreSQL: one generated log of beacons is split as the shipped balancer splits it
 * (votes by voter, everything else by eid: {@link BalancerSplit}) into three logs that three simulated
 * nginx hosts append to, each tailed by a worker process of its own node. One worker is SIGKILLed
 * mid-run and started again. While the nodes ingest, {@code pg_stat_activity} is sampled every few
 * milliseconds: no backend may wait on a heavyweight lock ({@code wait_event_type = 'Lock'}), i.e.
 * the nodes never wait for each other (nor for a killed predecessor). At the end the database equals
 * the generator's expectation of the whole log, {@code logtail verify} over the three nodes agrees
 * (every line of every log, and the global tallies against the sum of the logs), and {@code status
 * --cluster} shows three nodes with no lag.
 */
class MultiNodeIT {
  static final int NODES = 3;
  static final int LINES = 240_000;
  static final int LINES_PER_SECOND = 12_000;

  @TempDir(cleanup = CleanupMode.ON_SUCCESS) Path dir;

  @Test
  void threeNodesOneDatabaseNoLockWaitsAndExact() throws Exception {
    String url = TestDatabase.createDatabase("multinode");
    List<String> names = List.of("n1", "n2", "n3");
    List<FakeNginx> hosts = new ArrayList<>();
    List<String> globs = new ArrayList<>();
    for (String n : names) {
      Files.createDirectories(dir.resolve(n));
      hosts.add(new FakeNginx(dir.resolve(n).resolve("access.log")));
      globs.add(dir.resolve(n).resolve("access.log*").toString());
    }
    LogGenerator gen = new LogGenerator(1010, new LogGenerator.Mix());
    AtomicReference<Throwable> writerError = new AtomicReference<>();
    long[] perNode = new long[NODES];
    Thread writer = new Thread(() -> {
      try {
        StringBuilder[] sb = new StringBuilder[NODES];
        for (int i = 0; i < NODES; i++) sb[i] = new StringBuilder(1 << 18);
        long t0 = System.nanoTime();
        for (int i = 1; i <= LINES; i++) {
          String line = gen.nextLine();
          int node = BalancerSplit.nodeOf(line, NODES);
          sb[node].append(line);
          perNode[node]++;
          if (i % 1200 == 0 || i == LINES) {
            for (int k = 0; k < NODES; k++) {
              hosts.get(k).write(sb[k].toString());
              sb[k].setLength(0);
            }
            long wait = t0 + (long) i * (1_000_000_000L / LINES_PER_SECOND) - System.nanoTime();
            if (wait > 0) LockSupport.parkNanos(wait);
          }
        }
      } catch (Throwable t) {
        writerError.set(t);
      }
    }, "balanced-nginx");

    try (Database db = Database.builder(url).build(); Connection c = db.connection()) {
      db.migrate();
      Process[] workers = new Process[NODES];
      ClusterSupport.LockSampler sampler = new ClusterSupport.LockSampler(url);
      try {
        for (int i = 0; i < NODES; i++) workers[i] = start(url, names.get(i), globs.get(i));
        writer.start();
        // kill node n2's worker mid-run, once it has committed, and start it again
        DbAssert.await(Duration.ofSeconds(120), "n2 to commit a few batches",
            () -> DbAssert.query(db.dataSource(), "SELECT count(*) FROM batches b JOIN nodes n USING (node_id)"
                + " WHERE n.name = 'n2'") >= 5);
        long committedAtKill = committed(db, "n2");
        workers[1].destroyForcibly();
        assertTrue(workers[1].waitFor(30, TimeUnit.SECONDS));
        assertEquals(137, workers[1].exitValue(), "n2's worker ended by SIGKILL");
        workers[1] = start(url, "n2", globs.get(1));
        writer.join();
        assertEquals(null, writerError.get());
        for (int i = 0; i < NODES; i++) {
          String n = names.get(i);
          long size = hosts.get(i).written();
          DbAssert.await(Duration.ofSeconds(120), n + " to commit all " + size + " bytes", () -> committed(db, n) == size);
        }
        System.out.printf("MultiNodeIT: %d lines split %d/%d/%d; n2 killed at %d committed bytes; %d pg_stat_activity"
            + " samples (%d with an active backend), lock waits: %s%n", LINES, perNode[0], perNode[1], perNode[2],
            committedAtKill, sampler.samples.get(), sampler.busySamples.get(), sampler.waits);
        assertTrue(committedAtKill < hosts.get(1).written(), "n2 was killed with bytes still to commit");
      } finally {
        for (Process p : workers) {
          if (p != null) p.destroy();
        }
        for (Process p : workers) {
          if (p != null) assertTrue(p.waitFor(60, TimeUnit.SECONDS), "worker stops on SIGTERM");
        }
        sampler.close();
        for (FakeNginx h : hosts) h.close();
      }
      for (Process p : workers) assertEquals(0, p.exitValue(), "clean exit after SIGTERM");
      assertTrue(sampler.busySamples.get() >= 200, "the sampler saw the nodes at work: " + sampler.busySamples.get());
      assertEquals(List.of(), sampler.waits, "no backend waited on a lock while the nodes ingested");
      for (long n : perNode) assertTrue(n > LINES / 5, "the split gives every node a share: " + n);

      DbAssert.assertMatches(db.dataSource(), gen.expected());
      ClusterSupport.Run v = ClusterSupport.verifyAll(url, names, globs);
      assertEquals(0, v.exit(), v.out());
      assertTrue(v.out().contains("CLUSTER AGREE"), v.out());

      List<ClusterStatus.Node> status = ClusterStatus.read(c);
      assertEquals(names, status.stream().map(ClusterStatus.Node::name).toList());
      long lines = 0;
      for (ClusterStatus.Node n : status) {
        assertTrue(n.batches() > 0, n.toString());
        assertEquals(Long.valueOf(0), n.lagBytes(), "lag after everything was committed, reported: " + n);
        lines += n.lines();
      }
      assertEquals(gen.expected().lines, lines, "lines over all nodes");
      ClusterSupport.Run st = ClusterSupport.cli("status", "--cluster", "--db-url", url);
      assertEquals(0, st.exit(), st.out());
      assertTrue(st.out().contains("3 node(s)") && st.out().contains("n1") && st.out().contains("n3"), st.out());
      System.out.print(st.out());
    }
  }

  private Process start(String url, String node, String glob) throws Exception {
    return ClusterSupport.startWorker(url, node, glob, dir.resolve(node).resolve("data"), dir.resolve(node + ".log"));
  }

  private static long committed(Database db, String node) {
    return DbAssert.query(db.dataSource(), "SELECT coalesce(sum(s.committed_offset), 0) FROM sources s JOIN nodes n"
        + " USING (node_id) WHERE n.name = '" + node + "'");
  }
}
