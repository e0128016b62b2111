package io.logtail.admin;

import static io.logtail.admin.AdminTestSupport.await;
import static io.logtail.admin.AdminTestSupport.status;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.logtail.db.Database;
import io.logtail.db.TestDatabase;
import io.logtail.gen.LogGenerator;
import io.logtail.worker.DbAssert;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * The admin process ({@code logtail run}, a process of its own) is killed with SIGKILL at random moments
 * while it and its worker ingest a log that is rotated (rename, copytruncate, delaycompress gzip), and at
 * once started again, as systemd would (on the same status port, data directory and database). Its
 * worker, orphaned, must stop by itself (the end-of-file of its standard input, {@code ParentWatch}); the
 * new admin must wait for it instead of starting a second worker that fails on the binlog lock
 * ({@code PreviousWorker}). At the end: no worker of this data directory left running, no worker
 * failed, {@code logtail verify} agrees, and the database equals the generator's expectation.
 *
 * <p>50 kills in CI (the figure); {@code -Dlogtail.soak=true} makes 200 (or {@code -Dlogtail.torture.adminKills=N}).
 */
class AdminKillIT {
  static final int KILLS = Integer.getInteger("logtail.torture.adminKills", TortureSupport.SOAK ? 200 : 50);
  static final String NODE = "admin-kill";

  @TempDir(cleanup = CleanupMode.ON_SUCCESS) Path dir;

  @Test
  void adminKilledRepeatedlyDuringIngest() throws Exception {
    long t0 = System.nanoTime();
    String url = TestDatabase.createDatabase("admin_kill");
    Path log = dir.resolve("access.log");
    String glob = dir.resolve("access.log*").toString();
    Path data = dir.resolve("data");
    Path adminLog = dir.resolve("admin.log");
    int port = AdminTestSupport.freePort();
    Random rnd = new Random(20261129);
    Map<Long, Long> orphanKilledAt = new ConcurrentHashMap<>();
    Map<Long, Long> orphanLived = new ConcurrentHashMap<>();
    Thread watcher = orphanWatcher(orphanKilledAt, orphanLived);
    List<Integer> adminExits = new ArrayList<>();
    int killedWithWorker = 0;
    List<Process> admins = new ArrayList<>();
    TortureSupport.Nginx nginx = new TortureSupport.Nginx(log, new LogGenerator(29, new LogGenerator.Mix()), 8_000, 60_000);
    try (Database db = Database.builder(url).build()) {
      db.migrate();
      for (int round = 0; round < KILLS; round++) {
        Process admin = startAdmin(url, data, port, adminLog);
        admins.add(admin);
        if (round % 2 == 0) {
          // a random moment after the launch: often while the admin starts, waits for the previous
          // worker, or while its worker starts
          admin.waitFor(300 + rnd.nextInt(3500), TimeUnit.MILLISECONDS);
        } else {
          // a random moment while its worker ingests
          await(Duration.ofSeconds(90), "round " + round + ": the admin's worker running",
              () -> "running".equals(status(port).path("worker").path("state").asText()),
              () -> Files.readString(adminLog));
          admin.waitFor(100 + rnd.nextInt(2000), TimeUnit.MILLISECONDS);
        }
        List<Long> workers = workersOf(data);
        admin.destroyForcibly();   // SIGKILL, to the admin only: its worker is orphaned
        long killedAt = System.nanoTime();
        assertTrue(admin.waitFor(30, TimeUnit.SECONDS), "admin died");
        adminExits.add(admin.exitValue());
        for (long w : workers) {
          orphanKilledAt.putIfAbsent(w, killedAt);
        }
        if (!workers.isEmpty()) {
          killedWithWorker++;
        }
      }
      nginx.stop();
      long total = nginx.written();
      long killPhase = System.nanoTime();

      Process last = startAdmin(url, data, port, adminLog);
      admins.add(last);
      try {
        await(Duration.ofMinutes(3), "all " + total + " bytes committed",
            () -> DbAssert.query(db.dataSource(), "SELECT coalesce(sum(committed_offset),0) FROM sources") == total,
            () -> status(port));
        await(Duration.ofSeconds(30), "every orphaned worker ended",
            () -> workersOf(data).size() == 1 && orphanLived.size() == orphanKilledAt.size(),
            () -> "workers " + workersOf(data) + ", orphans " + orphanKilledAt.keySet() + ", ended " + orphanLived);
        await(Duration.ofSeconds(60), "the last admin's worker running",
            () -> "running".equals(status(port).path("worker").path("state").asText()), () -> status(port));
      } finally {
        last.destroy();   // SIGTERM: clean stop of admin and worker
        assertTrue(last.waitFor(60, TimeUnit.SECONDS), "the last admin stops on SIGTERM");
      }
      watcher.interrupt();
      String out = Files.readString(adminLog);
      assertEquals(0, last.exitValue(), "clean exit after SIGTERM");
      assertEquals(List.of(), workersOf(data), "no worker of this data directory left running");
      long maxLivedMs = orphanLived.values().stream().mapToLong(Long::longValue).max().orElse(0) / 1_000_000;
      long held = TortureSupport.count(adminLog, "is held by another process");
      long heldFailures = TortureSupport.count(adminLog, "is held by another logtail worker");
      long killedAdmins = adminExits.stream().filter(e -> e == 137).count();
      System.out.printf("AdminKillIT: %d admins killed (%d with a worker of the data directory alive: %d orphans, the longest lived %d ms "
              + "after its admin's SIGKILL); %d waits for the binlog; %d workers started; %d lines (%d renames, %d "
              + "copytruncates), %d bytes; kill phase %.1f s, total %.1f s%n",
          killedAdmins, killedWithWorker, orphanKilledAt.size(), maxLivedMs, held,
          TortureSupport.startedWorkers(adminLog).size(), nginx.lines, nginx.renames, nginx.copytruncates, total,
          (killPhase - t0) / 1e9, (System.nanoTime() - t0) / 1e9);
      assertEquals(KILLS, killedAdmins, "every admin ended by SIGKILL: " + adminExits);
      assertTrue(killedWithWorker >= KILLS / 2, "admins killed with a worker running: " + killedWithWorker);
      assertEquals(0, heldFailures, "no worker failed on the binlog lock");
      assertTrue(!out.contains("crash loop"), "no crash loop");
      assertTrue(maxLivedMs < 15_000, "orphaned workers stop within 15 s of their admin's death: " + orphanLived);
      TortureSupport.Run v = TortureSupport.verify(url, glob, NODE);
      assertEquals(0, v.exit(), v.out());
      assertTrue(v.out().contains("AGREE"), v.out());
      DbAssert.assertMatches(db.dataSource(), nginx.gen.expected());
    } finally {
      watcher.interrupt();
      nginx.close();
      for (Process a : admins) {
        a.destroyForcibly();   // a failed run must not leave an admin behind
      }
      for (long w : workersOf(data)) {
        ProcessHandle.of(w).ifPresent(ProcessHandle::destroyForcibly);
      }
    }
  }

  private Process startAdmin(String url, Path data, int port, Path adminLog) throws Exception {
    List<String> cmd = AdminProcessIT.javaCommand("io.logtail.cli.LogtailCli");
    cmd.addAll(List.of("run", "--log", dir.resolve("access.log*").toString(), "--db-url", url, "--data-dir",
        data.toString(), "--node-id", NODE, "--status-addr", "127.0.0.1:" + port, "--flush-interval", "100ms",
        "--batch-lines", "2000"));
    return new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(adminLog.toFile())).start();
  }

  /** The live worker JVMs of this data directory. */
  private static List<Long> workersOf(Path data) {
    String d = data.toString();
    return ProcessHandle.allProcesses()
        .filter(p -> {
          String c = PreviousWorker.commandLine(p);
          return c.contains("io.logtail.worker.WorkerMain") && c.contains(d);
        })
        .map(ProcessHandle::pid).toList();
  }

  /** Notes, every 20 ms, when each orphaned worker ended (nanoseconds after its admin's SIGKILL). */
  private static Thread orphanWatcher(Map<Long, Long> killedAt, Map<Long, Long> lived) {
    Thread t = new Thread(() -> {
      while (!Thread.currentThread().isInterrupted()) {
        for (Map.Entry<Long, Long> e : killedAt.entrySet()) {
          if (!lived.containsKey(e.getKey())
              && !ProcessHandle.of(e.getKey()).map(ProcessHandle::isAlive).orElse(false)) {
            lived.put(e.getKey(), System.nanoTime() - e.getValue());
          }
        }
        LockSupport.parkNanos(20_000_000L);
      }
    }, "orphan-watcher");
    t.setDaemon(true);
    t.start();
    return t;
  }
}
