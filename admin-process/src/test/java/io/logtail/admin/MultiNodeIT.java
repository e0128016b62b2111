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
 * Three nodes, one PostgreSQL: the three worker processes start at once on an empty database and
 * race to migrate it (each migration must be applied once). One generated log of beacons is split as the shipped balancer splits it
 * (votes by voter, everything else by eid: {@link BalancerSplit}) into three logs that three simulated
 * nginx hosts append to, each tailed by a worker process of its own node. One worker is SIGKILLed
 * mid-run and started again. While the nodes ingest, {@code pg_stat_activity} is sampled every few
 * milliseconds: no backend may wait on a heavyweight lock ({@code wait_event_type = 'Lock'}), i.e.
 * the nodes never wait for each other (nor for a killed predecessor); the one exception counted apart
 * is PostgreSQL's relation extension lock (two sessions adding pages to one table at once, held for
 * the allocation only), which must stay rare ({@link ClusterSupport.LockSampler}). At the end the database equals
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
      // the database is empty: the three worker processes start at once and race to migrate it
      // (Flyway's advisory lock lets one apply the migrations; the others find them applied)
      Process[] workers = new Process[NODES];
      ClusterSupport.LockSampler sampler = null;
      try {
        for (int i = 0; i < NODES; i++) workers[i] = start(url, names.get(i), globs.get(i));
        for (String n : names) {
          DbAssert.await(Duration.ofSeconds(120), n + " to start", () -> resumed(n) > 0);
        }
        assertEquals(ClusterSupport.queryLong(c, "SELECT count(DISTINCT version) FROM flyway_schema_history WHERE version IS NOT NULL"),
            ClusterSupport.queryLong(c, "SELECT count(*) FROM flyway_schema_history WHERE version IS NOT NULL AND success"),
            "each migration applied once, by one of the nodes");
        assertEquals(io.logtail.db.Database.SCHEMA_VERSION, AdminTestSupport.queryText(url,
            "SELECT version FROM flyway_schema_history WHERE success ORDER BY installed_rank DESC LIMIT 1"));
        // from here on the nodes ingest (the steady state): no backend may wait on a lock
        sampler = new ClusterSupport.LockSampler(url);
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
            + " samples (%d with an active backend), lock waits: %s, relation extension waits: %d %s%n", LINES, perNode[0],
            perNode[1], perNode[2], committedAtKill, sampler.samples.get(), sampler.busySamples.get(), sampler.waits,
            sampler.extendWaits.get(), sampler.extendWaitsOn);
        assertTrue(committedAtKill < hosts.get(1).written(), "n2 was killed with bytes still to commit");
      } finally {
        for (Process p : workers) {
          if (p != null) p.destroy();
        }
        for (Process p : workers) {
          if (p != null) assertTrue(p.waitFor(60, TimeUnit.SECONDS), "worker stops on SIGTERM");
        }
        if (sampler != null) sampler.close();
        for (FakeNginx h : hosts) h.close();
      }
      for (Process p : workers) assertEquals(0, p.exitValue(), "clean exit after SIGTERM");
      // the steady state writes no catalog rows (no TRUNCATE, ANALYZE or DDL per batch), so autovacuum
      // has no reason to visit, and lock, the catalogs the nodes' statements read
      long catalogWrites = ClusterSupport.queryLong(c, "SELECT coalesce(sum(n_tup_upd + n_tup_del), 0)"
          + " FROM pg_stat_sys_tables WHERE relname IN ('pg_class', 'pg_statistic')");
      System.out.printf("MultiNodeIT: catalog rows updated or deleted (pg_class, pg_statistic): %d%n", catalogWrites);
      assertTrue(sampler.busySamples.get() >= 200, "the sampler saw the nodes at work: " + sampler.busySamples.get());
      assertEquals(List.of(), sampler.waits, "no backend waited on a lock while the nodes ingested");
      assertTrue(sampler.extendWaits.get() <= sampler.busySamples.get() / 50, "relation extension waits are rare: "
          + sampler.extendWaits.get() + " in " + sampler.busySamples.get() + " samples with an active backend");
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

  /**
   * Without the balancer (lines dealt round robin to two nodes), a voter's votes arrive through both
   * nodes: the database still counts one vote per (ballot, voter), the others are duplicates or
   * retransmits (whichever node committed first decides which one counts), nothing is lost or
   * doubled, and verify over both nodes agrees with that rule.
   */
  @Test
  void aVotersSecondVoteThroughAnotherNodeIsStillCaught() throws Exception {
    String url = TestDatabase.createDatabase("multinode_unbalanced");
    LogGenerator.Mix mix = new LogGenerator.Mix();
    mix.voters = 3_000;     // many second votes
    mix.ballots = 4;
    mix.resendShare = 0.05;
    LogGenerator gen = new LogGenerator(77, mix);
    List<String> names = List.of("u1", "u2");
    List<String> globs = new ArrayList<>();
    StringBuilder[] parts = {new StringBuilder(), new StringBuilder()};
    for (int i = 0; i < 60_000; i++) {
      parts[i % 2].append(gen.nextLine());
    }
    for (int i = 0; i < 2; i++) {
      Path log = dir.resolve(names.get(i)).resolve("access.log");
      Files.createDirectories(log.getParent());
      Files.writeString(log, parts[i]);
      globs.add(log.toString());
    }
    LogGenerator.Expected e = gen.expected();
    try (Database db = Database.builder(url).build(); Connection c = db.connection()) {
      db.migrate();
      List<io.logtail.worker.Worker> workers = new ArrayList<>();
      List<Database> pools = new ArrayList<>(); // one pool per node, as two hosts would have
      try {
        for (int i = 0; i < 2; i++) {
          Database nodeDb = Database.builder(url).poolName("pool-" + names.get(i)).maxPoolSize(6).build();
          pools.add(nodeDb);
          io.logtail.worker.WorkerConfig cfg = new io.logtail.worker.WorkerConfig().node(names.get(i)).addLog(globs.get(i))
              .binlogDir(dir.resolve(names.get(i)).resolve("binlog")).flushInterval(Duration.ofMillis(20))
              .batchMaxLines(1_000);
          io.logtail.worker.Worker w = new io.logtail.worker.Worker(cfg, nodeDb.dataSource(), io.logtail.util.Ticker.system());
          w.start();
          workers.add(w);
        }
        long total = Files.size(Path.of(globs.get(0))) + Files.size(Path.of(globs.get(1)));
        DbAssert.await(Duration.ofSeconds(90), "both nodes to commit everything",
            () -> DbAssert.query(db.dataSource(), "SELECT coalesce(sum(committed_offset), 0) FROM sources") == total);
      } finally {
        for (io.logtail.worker.Worker w : workers) w.close();
        for (Database p : pools) p.close();
      }
      for (io.logtail.worker.Worker w : workers) assertEquals(null, w.failure());
      assertTrue(e.duplicates > 1000, "the mix has second votes: " + e.duplicates);
      assertEquals(e.votes, ClusterSupport.queryLong(c, "SELECT count(*) FROM votes"), "one vote per (ballot, voter)");
      assertEquals(e.votes, ClusterSupport.queryLong(c, "SELECT coalesce(sum(votes), 0) FROM vote_tallies"));
      assertEquals(e.duplicates + e.retransmits, ClusterSupport.queryLong(c,
          "SELECT coalesce(sum(duplicates + retransmits), 0) FROM batches"), "every other vote line is a duplicate or a retransmit");
      assertEquals(e.votes, ClusterSupport.queryLong(c, "SELECT coalesce(sum(votes), 0) FROM batches"));
      assertEquals(e.canvass, ClusterSupport.queryLong(c, "SELECT count(*) FROM canvass_records"));
      assertEquals(e.lines, ClusterSupport.queryLong(c, "SELECT coalesce(sum(lines), 0) FROM batches"));
      assertTrue(ClusterSupport.queryLong(c, "SELECT count(DISTINCT node_id) FROM votes") == 2, "both nodes counted votes");
      ClusterSupport.Run v = ClusterSupport.verifyAll(url, names, globs);
      assertEquals(0, v.exit(), v.out());
      assertTrue(v.out().contains("CLUSTER AGREE"), v.out());
    }
  }

  private Process start(String url, String node, String glob) throws Exception {
    return ClusterSupport.startWorker(url, node, glob, dir.resolve(node).resolve("data"), dir.resolve(node + ".log"));
  }

  /** How many times node {@code node}'s workers said they resumed (started their threads). */
  private long resumed(String node) {
    try {
      return TortureSupport.count(dir.resolve(node + ".log"), "resuming");
    } catch (java.io.IOException e) {
      return 0;
    }
  }

  private static long committed(Database db, String node) {
    return DbAssert.query(db.dataSource(), "SELECT coalesce(sum(s.committed_offset), 0) FROM sources s JOIN nodes n"
        + " USING (node_id) WHERE n.name = '" + node + "'");
  }
}
