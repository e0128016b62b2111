package io.logtail.admin;

import static io.logtail.admin.AdminTestSupport.await;
import static io.logtail.admin.AdminTestSupport.status;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.logtail.db.TestDatabase;
import io.logtail.gen.LogGenerator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code logtail run} as a process of its own: SIGTERM stops the admin and its worker, nothing lost. */
class AdminSigtermIT {
  @TempDir Path dir;

  @Test
  void sigtermStopsBothAndCommitsTheBatches() throws Exception {
    String url = TestDatabase.createDatabase("admin_sigterm");
    Path log = dir.resolve("access.log");
    LogGenerator gen = new LogGenerator(5, new LogGenerator.Mix());
    AdminTestSupport.appendLines(log, gen, 10_000);
    int port = AdminTestSupport.freePort();
    List<String> cmd = AdminProcessIT.javaCommand("io.logtail.cli.LogtailCli");
    cmd.addAll(List.of("run", "--log", log.toString(), "--db-url", url, "--data-dir", dir.resolve("data").toString(),
        "--node-id", "sigterm", "--status-addr", "127.0.0.1:" + port, "--flush-interval", "2s",
        "--batch-linger", "2s"));
    Process admin = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("admin.log").toFile())).start();
    try {
      await(Duration.ofSeconds(90), "caught up", () -> AdminProcessIT.caughtUp(status(port), log),
          () -> status(port) + "\n" + Files.readString(dir.resolve("admin.log")));
      long workerPid = status(port).path("worker").path("pid").asLong();
      // more lines, then SIGTERM at once: with a 2 s flush interval (and linger) they are in the batch being filled
      AdminTestSupport.appendLines(log, gen, 3_000);
      await(Duration.ofSeconds(10), "the new lines read", () -> {
        JsonNode s = status(port).path("sources").get(0);
        return s.path("read_offset").asLong() == Files.size(log);
      }, () -> status(port));
      long t0 = System.nanoTime();
      admin.destroy();   // SIGTERM
      assertTrue(admin.waitFor(20, TimeUnit.SECONDS), "admin stopped");
      double secs = (System.nanoTime() - t0) / 1e9;
      String out = Files.readString(dir.resolve("admin.log"));
      assertEquals(0, admin.exitValue(), out);
      assertTrue(secs < 10, "stopped in " + secs + " s");
      assertFalse(ProcessHandle.of(workerPid).map(ProcessHandle::isAlive).orElse(false), "worker stopped");
      assertTrue(out.contains("worker stopped with status 0"), out);
      try (Connection c = java.sql.DriverManager.getConnection(url);
          Statement st = c.createStatement();
          ResultSet rs = st.executeQuery("SELECT sum(committed_offset) FROM sources")) {
        rs.next();
        assertEquals(Files.size(log), rs.getLong(1), "every line committed at the stop");
      }
    } finally {
      admin.destroyForcibly();
    }
  }

  @Test
  void nonLoopbackBindWithoutTokenIsRefusedAtStart() throws Exception {
    List<String> cmd = AdminProcessIT.javaCommand("io.logtail.cli.LogtailCli");
    cmd.addAll(List.of("run", "--log", dir.resolve("x.log").toString(), "--data-dir", dir.resolve("data").toString(),
        "--status-addr", "0.0.0.0:" + AdminTestSupport.freePort()));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    assertEquals(2, p.exitValue(), out);
    assertTrue(out.contains("--status-token"), out);
    assertFalse(Files.exists(dir.resolve("data").resolve("pg")), "refused before the database was started");
  }
}
