package io.logtail.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.logtail.admin.AdminOptions;
import io.logtail.admin.AdminProcess;
import io.logtail.admin.AdminTestSupport;
import io.logtail.db.TestDatabase;
import io.logtail.gen.ExpectedCheck;
import io.logtail.gen.LogGenerator;
import io.logtail.worker.WorkerOptions;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * End to end with a real nginx: the shipped beacon snippet on a loopback port, 16 concurrent HTTP
 * clients firing votes, re-sends, second votes, canvass records, bad beacons, a POST and site traffic;
 * the real logrotate with the shipped policy twice mid-run (rename + USR1, delaycompress: the second
 * run gzips the first rotated file); the worker killed with SIGKILL once; the admin process restarts
 * it. Then the database must equal, exactly, the sum of what the clients sent and nginx answered:
 * tallies, votes, duplicates, retransmits, canvass records, re-sends, rejects by reason, lines. A
 * beacon lost or counted twice changes at least the lines or one of the counts.
 *
 * <p>Needs nginx and logrotate ({@code ./run-tests} installs them as root); fails, not skips, without.
 */
class NginxE2EIT {
  @TempDir Path dir;

  static final class Opts {
    @CommandLine.Mixin WorkerOptions worker = new WorkerOptions();
    @CommandLine.Mixin AdminOptions admin = new AdminOptions();
  }

  @Test
  void beaconsThroughRealNginxRotationAndAKilledWorkerLandExactlyOnce() throws Exception {
    Path nginxBin = NginxServer.findBinary().orElseThrow(() -> new AssertionError(
        "nginx is not installed; ./run-tests installs it when run as root (apt-get install nginx)"));
    Path logrotate = NginxServer.findLogrotate().orElseThrow(() -> new AssertionError(
        "logrotate is not installed; ./run-tests installs it when run as root (apt-get install logrotate)"));
    String url = TestDatabase.createDatabase("nginx_e2e");
    int clients = 16;
    int perClient = 2_500;
    LogGenerator.Mix mix = new LogGenerator.Mix();
    mix.ballots = 6;
    mix.choicesPerBallot = 3;
    mix.voters = 12_000;          // about 20k votes over 12k voters x 6 ballots: second votes happen
    mix.resendShare = 0.03;
    mix.badShare = 0.02;
    mix.trafficShare = 0.02;

    try (NginxServer nginx = NginxServer.start(nginxBin, dir.resolve("nginx"), TestDatabase.freePort(), 2)) {
      Opts o = new Opts();
      new CommandLine(o).parseArgs("--log", nginx.beaconLogGlob(), "--db-url", url,
          "--data-dir", dir.resolve("data").toString(), "--node-id", "e2e", "--status-addr", "127.0.0.1:0",
          "--heartbeat-timeout", "15s", "--fsync-interval", "500ms", "--batch-lines", "4000");
      AdminProcess admin = new AdminProcess(o.worker, o.admin).start();
      BeaconClients load = new BeaconClients("127.0.0.1", nginx.port(), clients, 7, mix, 4_000, perClient,
          System::nanoTime);
      long total = (long) clients * perClient;
      try {
        AdminTestSupport.await(Duration.ofSeconds(60), "worker running", () -> "running".equals(workerState(admin)), admin::status);
        load.start();
        awaitSent(load, total / 4);
        nginx.rotate(logrotate);                       // beacons.log -> beacons.log.1, USR1
        awaitSent(load, total / 2);
        long pid = admin.status().path("worker").path("pid").asLong();
        ProcessHandle.of(pid).orElseThrow().destroyForcibly();
        AdminTestSupport.await(Duration.ofSeconds(20), "the kill noticed", () -> admin.status().path("worker").path("restarts").asInt() == 1,
            admin::status);
        awaitSent(load, total * 3 / 4);
        nginx.rotate(logrotate);                       // beacons.log.1 -> beacons.log.2.gz, beacons.log -> .1
        load.awaitDone();
        assertEquals(List.of(), load.problems(), "requests nginx did not answer as expected");
        assertEquals(0, load.errors() + load.unexpected());
        assertEquals(total, load.sent());
        LogGenerator.Expected expected = load.expected();
        assertEquals(load.beacons(), expected.lines);
        // nginx logged every /b/ request once (so a difference below is logtail's, not nginx's)
        assertEquals(expected.lines, logLines(nginx.dir()), "lines in beacons.log*");
        assertTrue(Files.exists(nginx.dir().resolve("beacons.log.2.gz")), "the second rotation gzipped beacons.log.1");

        try (Connection c = DriverManager.getConnection(url)) {
          AdminTestSupport.await(Duration.ofSeconds(120), "every logged line committed",
              () -> committedLines(c) >= expected.lines, () -> committedLines(c) + " of " + expected.lines
                  + " lines; " + admin.status());
          assertEquals(List.of(), ExpectedCheck.differences(c, expected), "database vs what the clients sent");
          // every kind of outcome happened, so the comparison above tested each of them
          assertTrue(expected.votes > 0 && expected.duplicates > 0 && expected.retransmits > 0 && expected.canvass > 0
              && expected.resends > 0 && expected.rejects.size() >= 5, "mix: " + expected.rejects + " " + expected.votes
              + "/" + expected.duplicates + "/" + expected.retransmits + "/" + expected.canvass + "/" + expected.resends);
        }
        // and logtail verify, re-reading the three files on its own, agrees
        java.io.StringWriter vout = new java.io.StringWriter();
        CommandLine verify = io.logtail.cli.LogtailCli.commandLine();
        verify.setOut(new java.io.PrintWriter(vout, true));
        verify.setErr(new java.io.PrintWriter(vout, true));
        assertEquals(0, verify.execute("verify", "--log", nginx.beaconLogGlob(), "--db-url", url, "--node-id", "e2e",
            "--no-progress"), vout.toString());
        JsonNode s = admin.status();
        assertEquals(1, s.path("worker").path("restarts").asInt(), s.toString());
        assertEquals("running", s.path("worker").path("state").asText(), s.toString());
      } finally {
        load.close();
        admin.close();
      }
    }
  }

  private static String workerState(AdminProcess admin) {
    return admin.status().path("worker").path("state").asText();
  }

  private static long committedLines(Connection c) throws java.sql.SQLException {
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT coalesce(sum(lines), 0) FROM batches")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static void awaitSent(BeaconClients load, long n) throws Exception {
    AdminTestSupport.await(Duration.ofSeconds(120), n + " requests sent", () -> load.sent() >= n || load.errors() > 0,
        () -> load.sent() + " sent, problems " + load.problems());
  }

  /** Lines in beacons.log and its rotated files, gzip included. */
  private static long logLines(Path dir) throws IOException {
    long n = 0;
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.filter(p -> p.getFileName().toString().startsWith("beacons.log")).toList()) {
        try (InputStream raw = Files.newInputStream(f);
            InputStream in = f.toString().endsWith(".gz") ? new GZIPInputStream(raw) : raw;
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.ISO_8859_1))) {
          while (r.readLine() != null) {
            n++;
          }
        }
      }
    }
    return n;
  }
}
