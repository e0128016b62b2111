package io.logtail.admin;

import static io.logtail.admin.AdminTestSupport.PROM_LINE;
import static io.logtail.admin.AdminTestSupport.await;
import static io.logtail.admin.AdminTestSupport.get;
import static io.logtail.admin.AdminTestSupport.status;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.logtail.db.TestDatabase;
import io.logtail.gen.LogGenerator;
import io.logtail.worker.WorkerOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The admin process in this JVM, supervising a real worker JVM against the test PostgreSQL: ingest
 * until lag 0, kill -9, SIGSTOP (hung), crash loop; the status port throughout.
 */
class AdminProcessIT {
  @TempDir Path dir;

  static final class Opts {
    @CommandLine.Mixin WorkerOptions worker = new WorkerOptions();
    @CommandLine.Mixin AdminOptions admin = new AdminOptions();
  }

  static Opts parse(String... args) {
    Opts o = new Opts();
    new CommandLine(o).parseArgs(args);
    return o;
  }

  static boolean caughtUp(JsonNode s, Path log) throws IOException {
    long size = Files.size(log);
    JsonNode srcs = s.path("sources");
    if (srcs.size() != 1) {
      return false;
    }
    JsonNode src = srcs.get(0);
    return src.path("size").asLong() == size && src.path("committed_offset").asLong() == size
        && src.path("lag_bytes").asLong() == 0;
  }

  @Test
  void ingestsKillNineHungWorkerAndStatusWhileDown() throws Exception {
    String url = TestDatabase.createDatabase("admin_it");
    Path log = dir.resolve("access.log");
    LogGenerator gen = new LogGenerator(11, new LogGenerator.Mix());
    AdminTestSupport.appendLines(log, gen, 20_000);
    Opts o = parse("--log", dir.resolve("access.log*").toString(), "--db-url", url,
        "--data-dir", dir.resolve("data").toString(), "--node-id", "admin-it", "--status-addr", "127.0.0.1:0",
        "--heartbeat-timeout", "6s", "--max-restarts", "10", "--fsync-interval", "500ms");
    AdminProcess admin = new AdminProcess(o.worker, o.admin).start();
    try {
      int port = admin.server().address().getPort();
      await(Duration.ofSeconds(60), "worker running and caught up",
          () -> { JsonNode s = status(port); return "running".equals(s.path("worker").path("state").asText()) && caughtUp(s, log); },
          () -> status(port));
      // the log grows again while running: lag reaches 0 again and committed_offset == size
      AdminTestSupport.appendLines(log, gen, 30_000);
      await(Duration.ofSeconds(60), "caught up after growth", () -> caughtUp(status(port), log), () -> status(port));
      JsonNode s = status(port);
      assertEquals(50_000, s.path("events").path("lines").asLong(), s.toString());
      assertEquals(0, s.path("worker").path("restarts").asInt());
      assertTrue(s.path("database").path("reachable").asBoolean(), s.toString());
      assertTrue(s.path("database").path("url").asText().startsWith("jdbc:postgresql://"), s.toString());
      await(Duration.ofSeconds(10), "an fsync", () -> status(port).path("fsync").path("last_ms").isNumber(), () -> status(port));
      assertTrue(status(port).path("fsync").path("files").asInt() >= 1);
      AdminTestSupport.Resp health = get(port, "/health", null);
      assertEquals(200, health.code(), health.body());
      String metrics = get(port, "/metrics", null).body();
      for (String line : metrics.split("\n")) {
        assertTrue(line.isEmpty() || PROM_LINE.matcher(line).matches(), "not Prometheus text: " + line);
      }
      assertTrue(metrics.contains("logtail_lines_total 50000.0"), metrics);
      assertTrue(metrics.contains("logtail_lag_bytes{path=\"" + log + "\"} 0.0"), metrics);

      // kill -9: restarted, restarts +1, last_exit shows signal 9 (exit status 137)
      long pid1 = s.path("worker").path("pid").asLong();
      ProcessHandle.of(pid1).orElseThrow().destroyForcibly();
      await(Duration.ofSeconds(10), "the kill noticed", () -> status(port).path("worker").path("restarts").asInt() == 1, () -> status(port));
      JsonNode down = status(port);   // the status port answers while the worker is down
      assertEquals(137, down.path("worker").path("last_exit").path("code").asInt(), down.toString());
      assertEquals(9, down.path("worker").path("last_exit").path("signal").asInt(), down.toString());
      assertTrue(down.path("worker").path("last_error").asText().contains("signal 9"), down.toString());
      await(Duration.ofSeconds(60), "a new worker running", () -> {
        JsonNode x = status(port);
        return "running".equals(x.path("worker").path("state").asText()) && x.path("worker").path("pid").asLong() != pid1;
      }, () -> status(port));
      AdminTestSupport.appendLines(log, gen, 5_000);
      await(Duration.ofSeconds(60), "caught up after restart", () -> caughtUp(status(port), log), () -> status(port));

      // a hung worker (SIGSTOP): heartbeat lost, SIGKILLed and restarted
      long pid2 = status(port).path("worker").path("pid").asLong();
      Process stop = new ProcessBuilder("kill", "-STOP", Long.toString(pid2)).inheritIO().start();
      assertEquals(0, stop.waitFor());
      await(Duration.ofSeconds(30), "the hung worker replaced", () -> status(port).path("worker").path("restarts").asInt() == 2, () -> status(port));
      JsonNode hung = status(port);
      assertTrue(hung.path("worker").path("last_error").asText().startsWith("heartbeat lost"), hung.toString());
      assertEquals(9, hung.path("worker").path("last_exit").path("signal").asInt(), hung.toString());
      AdminTestSupport.Resp h2 = get(port, "/health", null);
      assertEquals(503, h2.code(), h2.body());
      await(Duration.ofSeconds(60), "running again", () -> "running".equals(status(port).path("worker").path("state").asText()), () -> status(port));
      assertTrue(ProcessHandle.of(pid2).map(ph -> !ph.isAlive()).orElse(true), "the hung worker is gone");
      await(Duration.ofSeconds(60), "caught up after the hang", () -> caughtUp(status(port), log), () -> status(port));
    } finally {
      admin.close();
    }
    assertEquals(AdminProcess.State.STOPPED, admin.state());
    // exactly once across the kills: the database holds every line once
    try (Connection c = java.sql.DriverManager.getConnection(url);
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT sum(committed_offset) FROM sources")) {
      rs.next();
      assertEquals(Files.size(log), rs.getLong(1));
    }
  }

  @Test
  void crashLoopEndsInFailedWithTheReason() throws Exception {
    String url = TestDatabase.createDatabase("admin_crashloop");
    Path log = dir.resolve("access.log");
    Files.writeString(log, "");
    Opts o = parse("--log", log.toString(), "--db-url", url, "--data-dir", dir.resolve("data").toString(),
        "--node-id", "crashloop", "--log-format", "", "--status-addr", "127.0.0.1:0",
        "--max-restarts", "2", "--restart-window", "60s");
    AdminProcess admin = new AdminProcess(o.worker, o.admin).start();
    try {
      int port = admin.server().address().getPort();
      await(Duration.ofSeconds(90), "state failed", () -> "failed".equals(status(port).path("worker").path("state").asText()), () -> status(port));
      JsonNode s = status(port);
      assertEquals(2, s.path("worker").path("restarts").asInt(), s.toString());
      String err = s.path("worker").path("last_error").asText();
      assertTrue(err.startsWith("crash loop: gave up after 2 restarts within 60 s"), err);
      assertTrue(err.contains("exited with status 2"), err);
      assertTrue(err.contains("--log-format must not be empty"), err);
      AdminTestSupport.Resp h = get(port, "/health", null);
      assertEquals(503, h.code());
      assertTrue(h.body().contains("crash loop"), h.body());
    } finally {
      admin.close();
    }
    assertEquals(1, admin.exitStatus());
  }

  static List<String> javaCommand(String mainClass) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    for (String a : java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (a.startsWith("--add-") || a.startsWith("-Dchronicle")) {
        cmd.add(a);
      }
    }
    cmd.add("-Xmx256m");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(mainClass);
    return cmd;
  }
}
