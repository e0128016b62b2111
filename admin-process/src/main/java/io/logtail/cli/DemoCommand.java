package io.logtail.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.logtail.admin.AdminOptions;
import io.logtail.admin.AdminProcess;
import io.logtail.db.EmbeddedPostgres;
import io.logtail.demo.BeaconClients;
import io.logtail.demo.NginxServer;
import io.logtail.gen.ExpectedCheck;
import io.logtail.gen.LogGenerator;
import io.logtail.util.Ticker;
import io.logtail.verify.Verifier;
import io.logtail.worker.DurationConverter;
import io.logtail.worker.WorkerOptions;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code logtail demo}: the whole pipeline on this machine in one command, with nothing to set up.
 *
 * <p>An embedded PostgreSQL (database {@code demo}, recreated each run), a real nginx with the shipped
 * beacon snippet when nginx is installed (else logtail writes nginx-format lines itself, and says so),
 * concurrent clients of voters and canvassers, and {@code logtail run}'s admin process with its worker
 * JVM. Halfway it kills the worker with SIGKILL and, with nginx, rotates the log with the shipped
 * logrotate policy; at the end it checks the database against what the clients sent, exactly.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = {
      "Runs the whole pipeline on this machine with a built-in load of voters and canvassers.",
      "Embedded PostgreSQL (<dir>/pg, database 'demo', recreated each run); a real nginx on",
      "127.0.0.1:--nginx-port with systemd/nginx-beacons.conf when nginx is installed, else lines in",
      "nginx's format written by logtail itself; the admin process and its worker as `logtail run` runs",
      "them. Shows progress every --progress-interval; halfway kills the worker (SIGKILL) to show the",
      "restart, and with nginx rotates the log with systemd/logrotate-logtail; at the end waits until",
      "every line is committed and checks the database against what the clients sent.",
      "",
      "Exit status: 0 the database matches exactly; 1 it does not, or the run failed; 2 bad options."
    })
public final class DemoCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--rate", defaultValue = "2000", paramLabel = "R",
      description = "Requests per second, all clients together. Default: ${DEFAULT-VALUE}.")
  long rate;

  @Option(names = "--duration", defaultValue = "60s", converter = DurationConverter.class, paramLabel = "D",
      description = "How long the clients send (e.g. 30s, 5m). Default: ${DEFAULT-VALUE}.")
  Duration duration;

  @Option(names = "--clients", defaultValue = "8", description = "Concurrent clients. Default: ${DEFAULT-VALUE}.")
  int clients;

  @Option(names = "--dir", paramLabel = "DIR", defaultValue = "logtail-data/demo",
      description = "Where the demo's database, nginx and worker data go. Default: ${DEFAULT-VALUE}.")
  Path dir;

  @Option(names = "--db-port", defaultValue = "54328",
      description = "Port of the demo's embedded PostgreSQL (loopback). Default: ${DEFAULT-VALUE}.")
  int dbPort;

  @Option(names = "--nginx-port", defaultValue = "8088",
      description = "Loopback port of the demo's nginx. Default: ${DEFAULT-VALUE}.")
  int nginxPort;

  @Option(names = "--status-addr", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:9180",
      description = "Status port of the demo's admin process (`./logtail status` reads 127.0.0.1:9180). Default: ${DEFAULT-VALUE}.")
  String statusAddr;

  @Option(names = "--no-nginx", description = "Write nginx-format lines directly even when nginx is installed.")
  boolean noNginx;

  @Option(names = "--no-kill", description = "Do not kill the worker halfway.")
  boolean noKill;

  @Option(names = "--keep-running", description = "After the summary, keep nginx and logtail running until Ctrl-C.")
  boolean keepRunning;

  @Option(names = "--progress-interval", defaultValue = "2s", converter = DurationConverter.class,
      description = "How often to print progress. Default: ${DEFAULT-VALUE}.")
  Duration progressInterval;

  @Option(names = "--seed", defaultValue = "2026", description = "Seed of the load. Default: ${DEFAULT-VALUE}.")
  long seed;

  private PrintWriter out;

  @Override
  public Integer call() throws Exception {
    out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (rate < 1 || clients < 1 || duration.isNegative() || duration.isZero()) {
      err.println("logtail demo: --rate and --clients must be at least 1 and --duration positive");
      return 2;
    }
    dir = dir.toAbsolutePath();
    Files.createDirectories(dir);
    Path nginxDir = dir.resolve("nginx");
    Path workerDir = dir.resolve("worker");
    deleteTree(nginxDir);
    deleteTree(workerDir);

    say("starting the embedded PostgreSQL under %s (port %d)...", dir.resolve("pg"), dbPort);
    EmbeddedPostgres pg = EmbeddedPostgres.builder().dataDir(dir.resolve("pg")).port(dbPort).start();
    try (Connection c = pg.connect(EmbeddedPostgres.DATABASE); Statement st = c.createStatement()) {
      st.execute("DROP DATABASE IF EXISTS demo WITH (FORCE)");
      st.execute("CREATE DATABASE demo");
    }
    String url = pg.jdbcUrl("demo");

    LogGenerator.Mix mix = new LogGenerator.Mix();
    mix.ballots = 4;
    mix.choicesPerBallot = 3;
    mix.voters = (int) Math.min(Integer.MAX_VALUE / 2, Math.max(1_000, rate * duration.toSeconds() / 4));
    mix.resendShare = 0.02;
    mix.badShare = 0.01;
    mix.trafficShare = 0.01;

    NginxServer nginx = null;
    var nginxBin = noNginx ? java.util.Optional.<Path>empty() : NginxServer.findBinary();
    if (nginxBin.isPresent()) {
      if (!free(nginxPort)) {
        err.println("logtail demo: port " + nginxPort + " is taken; pass --nginx-port with a free one");
        return 2;
      }
      nginx = NginxServer.start(nginxBin.get(), nginxDir, nginxPort, 2);
      say("nginx %s on 127.0.0.1:%d with systemd/nginx-beacons.conf; beacon log %s", nginxBin.get(), nginxPort,
          nginx.beaconLog());
    } else {
      Files.createDirectories(nginxDir);
      say("nginx is %s: logtail writes nginx-format (combined) lines itself into %s (install nginx, e.g."
          + " apt-get install nginx, to see real HTTP beacons)", noNginx ? "off (--no-nginx)" : "not installed",
          nginxDir.resolve("beacons.log"));
    }
    String glob = nginxDir.resolve("beacons.log") + "*";

    class Opts {
      @CommandLine.Mixin WorkerOptions worker = new WorkerOptions();
      @CommandLine.Mixin AdminOptions admin = new AdminOptions();
    }
    Opts o = new Opts();
    Path publishDir = dir.resolve("publish");
    new CommandLine(o).parseArgs("--log", glob, "--db-url", url, "--data-dir", workerDir.toString(),
        "--node-id", "demo", "--status-addr", statusAddr, "--publish-dir", publishDir.toString());
    AdminProcess admin;
    try {
      admin = new AdminProcess(o.worker, o.admin).start();
    } catch (IOException e) {
      err.println("logtail demo: cannot start the admin process on " + statusAddr + " (" + e.getMessage()
          + "); is `logtail run` already running? Pass --status-addr 127.0.0.1:0");
      if (nginx != null) {
        nginx.close();
      }
      return 2;
    }
    say("logtail: admin process with status port %s, worker JVM starting", admin.server().address());
    say("publishing the results every %d s under %s (results/index.json, results/ballot/*.json,"
        + " canvass/cells.geojson, results/status.json)", o.admin.publish.interval.toSeconds(), publishDir);
    BeaconClients clientsLoad = null;
    PacedAppender writer = null;
    LogGenerator fileGen = null;
    int exit = 1;
    try {
      awaitState(admin, Duration.ofSeconds(120));
      long requests = rate * duration.toSeconds();
      if (nginx != null) {
        clientsLoad = new BeaconClients("127.0.0.1", nginx.port(), clients, seed, mix, rate,
            Math.max(1, requests / clients), System::nanoTime);
        clientsLoad.start();
        say("%d clients sending %,d requests/s for %d s to http://127.0.0.1:%d/b/", clients, rate,
            duration.toSeconds(), nginx.port());
      } else {
        mix.startEpochSecond = System.currentTimeMillis() / 1000;
        mix.linesPerSecond = (int) rate;
        fileGen = new LogGenerator(seed, mix);
        // the bench's paced appender: whole lines every 10 ms, one write each, as nginx writes
        writer = new PacedAppender(nginxDir.resolve("beacons.log"), fileGen, rate, 10_000_000L, Ticker.system(),
            () -> System.currentTimeMillis() * 1000);
        writer.start();
        say("writing %,d lines/s for %d s into %s", rate, duration.toSeconds(), nginxDir.resolve("beacons.log"));
      }
      exit = watch(admin, nginx, clientsLoad, writer, fileGen, url, glob);
      if (exit == 0 && keepRunning) {
        say("--keep-running: nginx and logtail keep running; Ctrl-C to stop");
        Thread main = Thread.currentThread();
        sun.misc.Signal.handle(new sun.misc.Signal("INT"), s -> main.interrupt());
        sun.misc.Signal.handle(new sun.misc.Signal("TERM"), s -> main.interrupt());
        try {
          while (!admin.awaitStopped(Duration.ofSeconds(1))) {
            // until Ctrl-C
          }
        } catch (InterruptedException e) {
          say("stopping");
        }
      }
    } finally {
      if (clientsLoad != null) {
        clientsLoad.close();
      }
      if (writer != null) {
        writer.stopAndJoin();
      }
      admin.close();
      if (nginx != null) {
        nginx.close();
      }
    }
    out.println();
    out.println("To look further:");
    out.println("  psql 'postgresql://logtail@127.0.0.1:" + pg.port() + "/demo'    # the embedded PostgreSQL stays up;");
    out.println("      e.g. SELECT * FROM vote_tallies ORDER BY 1, 2;  SELECT reason, count(*) FROM rejects GROUP BY 1;");
    out.println("  " + publishDir.resolve("results/index.json") + "    # the published results (docs/results.md)");
    out.println("  ./logtail demo --keep-running      # then, in another terminal: ./logtail status");
    out.println("  ./logtail run --log '/var/log/nginx/beacons.log*'   # the real job (docs/operations.md)");
    out.println("  (stop the demo's PostgreSQL: " + stopHint(pg) + ")");
    out.flush();
    return exit;
  }

  private static String stopHint(EmbeddedPostgres pg) {
    return "kill $(head -1 " + pg.pgData().resolve("postmaster.pid") + ")";
  }

  private int watch(AdminProcess admin, NginxServer nginx, BeaconClients load, PacedAppender writer,
      LogGenerator fileGen, String url,
      String glob)
      throws Exception {
    long t0 = System.nanoTime();
    long half = t0 + duration.toNanos() / 2;
    long twoThirds = t0 + duration.toNanos() * 2 / 3;
    boolean killed = noKill;
    boolean rotated = nginx == null;
    var logrotate = NginxServer.findLogrotate();
    long lastLines = 0;
    long lastSent = 0;
    long lastTick = t0;
    try (Connection c = DriverManager.getConnection(url)) {
      while (true) {
        LockSupport.parkNanos(progressInterval.toNanos());
        long now = System.nanoTime();
        boolean sending = load != null ? !load.done() : now - t0 < duration.toNanos();
        JsonNode s = admin.status();
        long lines = s.path("events").path("lines").asLong();
        long sent = load != null ? load.sent() : writer.linesWritten();
        double dt = (now - lastTick) / 1e9;
        out.printf(Locale.ROOT, "%5.0fs  sent %,9d (%,6.0f/s)  committed %,9d lines (%,6.0f/s)  lag %,8d B  worker %-10s restarts %d%n",
            (now - t0) / 1e9, sent, (sent - lastSent) / dt, lines, (lines - lastLines) / dt,
            s.path("lag_bytes").asLong(), s.path("worker").path("state").asText(), s.path("worker").path("restarts").asInt());
        out.println("       tallies: " + tallies(c));
        out.flush();
        lastLines = lines;
        lastSent = sent;
        lastTick = now;
        if (!killed && now >= half) {
          killed = true;
          long pid = s.path("worker").path("pid").asLong(-1);
          if (pid > 0) {
            say("killing the worker (pid %d) with SIGKILL: the admin process restarts it, and it resumes from"
                + " the database's offsets, nothing lost, nothing counted twice", pid);
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
          }
        }
        if (!rotated && now >= twoThirds) {
          rotated = true;
          if (logrotate.isPresent()) {
            nginx.rotate(logrotate.get());
            say("rotated the log with systemd/logrotate-logtail (rename + USR1): logtail finishes beacons.log.1"
                + " and follows the new beacons.log");
          }
        }
        if (!sending) {
          break;
        }
      }
      if (load != null) {
        load.awaitDone();
      } else {
        writer.stopAndJoin();   // the generator is the appender's alone until it stopped
      }
      LogGenerator.Expected expected = load != null ? load.expected() : fileGen.expected();
      say("load done: %,d lines in the beacon log; waiting until all are committed...", expected.lines);
      long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
      long committed;
      while ((committed = committedLines(c)) < expected.lines && System.nanoTime() < deadline) {
        LockSupport.parkNanos(200_000_000L);
      }
      JsonNode s = admin.status();
      double secs = (System.nanoTime() - t0) / 1e9;
      out.println();
      out.println("Summary (" + String.format(Locale.ROOT, "%.0f", secs) + " s)");
      out.printf(Locale.ROOT, "  lines committed   %,d of %,d%n", committed, expected.lines);
      out.printf(Locale.ROOT, "  votes counted     %,d   second votes (duplicates) %,d   re-sent (retransmits) %,d%n",
          expected.votes, expected.duplicates, expected.retransmits);
      out.printf(Locale.ROOT, "  canvass records   %,d   re-sent %,d%n", expected.canvass, expected.resends);
      out.printf(Locale.ROOT, "  rejects           %,d  %s%n", expected.rejected(), expected.rejects);
      out.printf(Locale.ROOT, "  worker restarts   %d   batches committed %,d%n", s.path("worker").path("restarts").asInt(),
          batches(c));
      out.println("  tallies           " + tallies(c));
      List<String> problems = new ArrayList<>();
      if (load != null) {
        if (load.errors() + load.unexpected() > 0) {
          problems.add(load.errors() + " requests failed and " + load.unexpected()
              + " were answered unexpectedly, so the expectation is not exact: " + load.problems());
        }
      }
      problems.addAll(ExpectedCheck.differences(c, expected));
      // the operator's own check: logtail verify re-reads the log files and reconciles them line by line
      Verifier.Options vo = new Verifier.Options();
      vo.logs.add(glob);
      vo.node = "demo";
      vo.progress = false;
      java.io.StringWriter report = new java.io.StringWriter();
      int verified;
      try {
        verified = new Verifier(vo, new PrintWriter(report), new PrintWriter(report)).run(c);
      } catch (Verifier.CannotRead e) {
        verified = Verifier.CANNOT;
        report.write(e.getMessage());
      }
      if (verified != Verifier.AGREE) {
        problems.add("logtail verify exited " + verified + ":\n" + report);
      }
      if (problems.isEmpty()) {
        out.println("  check             EXACT: the database holds every line once, as the clients sent it");
        out.println("  logtail verify    agrees: it re-read the log files line by line (./logtail verify --log '" + glob
            + "' --db-url '" + url + "' --node-id demo)");
        return 0;
      }
      out.println("  check             MISMATCH:");
      problems.forEach(p -> out.println("    " + p));
      return 1;
    }
  }

  private static long committedLines(Connection c) throws SQLException {
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT coalesce(sum(lines), 0) FROM batches")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static long batches(Connection c) throws SQLException {
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM batches")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static String tallies(Connection c) throws SQLException {
    Map<String, StringBuilder> byBallot = new LinkedHashMap<>();
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT ballot, choice, votes FROM vote_tallies ORDER BY ballot, choice")) {
      while (rs.next()) {
        byBallot.computeIfAbsent(rs.getString(1), b -> new StringBuilder())
            .append(' ').append(rs.getString(2)).append(' ').append(String.format(Locale.ROOT, "%,d", rs.getLong(3)));
      }
    }
    if (byBallot.isEmpty()) {
      return "(none yet)";
    }
    StringBuilder b = new StringBuilder();
    byBallot.forEach((ballot, t) -> b.append("  ").append(ballot).append(':').append(t));
    return b.toString();
  }

  private void awaitState(AdminProcess admin, Duration timeout) throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!"running".equals(admin.status().path("worker").path("state").asText())) {
      if (System.nanoTime() > deadline || admin.state() == AdminProcess.State.FAILED) {
        throw new IOException("the worker did not start: " + admin.status().path("worker").path("last_error").asText());
      }
      LockSupport.parkNanos(100_000_000L);
    }
  }

  private void say(String fmt, Object... args) {
    out.println("demo: " + String.format(Locale.ROOT, fmt, args));
    out.flush();
  }

  private static boolean free(int port) {
    try (ServerSocket s = new ServerSocket(port, 1, java.net.InetAddress.getLoopbackAddress())) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p)) {
      return;
    }
    try (Stream<Path> s = Files.walk(p)) {
      for (Path f : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(f);
      }
    }
  }
}
