package io.logtail.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checks the files in {@code systemd/} with the tools that will read them: {@code systemd-analyze
 * verify} for the unit (offline; no systemd as PID 1 needed) and {@code logrotate -d} for the
 * logrotate snippet. A missing tool is a failure, never a skip: {@code ./run-tests} installs both.
 */
class SystemdUnitTest {
  private static final Path ROOT = repoRoot();
  private static final Path UNIT = ROOT.resolve("systemd/logtail.service");
  private static final String EXEC_START = "ExecStart=/opt/logtail/logtail run $LOGTAIL_ARGS";

  @TempDir Path tmp;

  record Result(int exit, String output) {
    List<String> lines() { return output.lines().toList(); }
  }

  @Test
  void unitPassesSystemdAnalyzeVerify() throws Exception {
    String unit = Files.readString(UNIT);
    Path copy = unitCopy(unit);
    Result r = run(List.of(tool("systemd-analyze", "systemd"), "verify", copy.toString()));
    List<String> complaints = r.lines().stream().filter(l -> l.contains("logtail.service")).toList();
    assertTrue(complaints.isEmpty(), "systemd-analyze verify complains about the unit:\n" + r.output());
    assertEquals(0, r.exit(), "systemd-analyze verify failed:\n" + r.output());
  }

  /** The check above must be able to fail here: a misspelt directive is reported. */
  @Test
  void systemdAnalyzeVerifyReportsAMisspeltDirective() throws Exception {
    String unit = Files.readString(UNIT).replace("\nLockPersonality=yes\n", "\nLockPersonalty=yes\n");
    Path copy = unitCopy(unit);
    Result r = run(List.of(tool("systemd-analyze", "systemd"), "verify", copy.toString()));
    assertTrue(r.lines().stream().anyMatch(l -> l.contains("logtail.service") && l.contains("LockPersonalty")),
        "systemd-analyze verify did not report a misspelt directive, so it checks nothing here:\n" + r.output());
  }

  /** The hardening and stop behaviour the unit promises; none may be dropped to make a check pass. */
  @Test
  void unitKeepsItsUserAndHardening() throws IOException {
    List<String> lines = Files.readAllLines(UNIT).stream().map(String::strip).toList();
    for (String required : List.of(
        "User=logtail", "Group=logtail", "SupplementaryGroups=adm", "EnvironmentFile=/etc/logtail/logtail.env",
        EXEC_START, "Restart=on-failure", "RestartSec=2", "TimeoutStopSec=60", "KillSignal=SIGTERM",
        "SuccessExitStatus=143", "NoNewPrivileges=yes", "ProtectSystem=strict", "ReadWritePaths=/var/lib/logtail",
        "ReadOnlyPaths=/var/log/nginx", "PrivateTmp=yes", "ProtectHome=yes", "ProtectKernelTunables=yes",
        "ProtectKernelModules=yes", "ProtectControlGroups=yes", "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
        "LockPersonality=yes", "RestrictRealtime=yes", "StateDirectory=logtail", "LimitNOFILE=65536",
        "StandardError=journal")) {
      assertTrue(lines.contains(required), "systemd/logtail.service lacks the line " + required);
    }
  }

  /** Every LOGTAIL_* variable logtail reads is documented in the example environment file. */
  @Test
  void envExampleDocumentsEveryVariable() throws IOException {
    String example = Files.readString(ROOT.resolve("systemd/logtail.env.example"));
    TreeSet<String> vars = new TreeSet<>();
    Pattern p = Pattern.compile("LOGTAIL_[A-Z_]+");
    for (String source : List.of("logtail-core/src/main/java/io/logtail/worker/WorkerOptions.java",
        "admin-process/src/main/java/io/logtail/admin/AdminOptions.java",
        "admin-process/src/main/java/io/logtail/cli/LogConfig.java", "logtail")) {
      Matcher m = p.matcher(Files.readString(ROOT.resolve(source)));
      while (m.find()) {
        vars.add(m.group());
      }
    }
    vars.remove("LOGTAIL_HOME"); // set by the launcher itself, not by the operator
    assertTrue(vars.contains("LOGTAIL_DB_URL"), "found no variables in the sources: " + vars);
    for (String v : vars) {
      assertTrue(Pattern.compile("(?m)^#?" + v + "=").matcher(example).find(),
          "systemd/logtail.env.example does not document " + v);
    }
    assertTrue(example.contains("\nLOGTAIL_ARGS=\"--log /var/log/nginx/beacons.log*\"\n"),
        "LOGTAIL_ARGS must pass the beacon log glob, quoted as a whole (systemd removes only outer quotes)");
  }

  @Test
  void logrotateSnippetPassesDryRun() throws Exception {
    Path logDir = Files.createDirectory(tmp.resolve("nginx"));
    Path log = logDir.resolve("beacons.log");
    Files.writeString(log, "127.0.0.1 - - [23/Nov/2026:20:00:00 +0000] \"GET /b/vote.gif HTTP/1.1\" 200 43 \"-\" \"t\"\n");
    String conf = Files.readString(ROOT.resolve("systemd/logrotate-logtail"));
    assertTrue(conf.contains("/var/log/nginx/beacons.log {") && conf.contains("/run/nginx.pid"), conf);
    assertFalse(conf.lines().anyMatch(l -> l.strip().equals("copytruncate")), "copytruncate loses lines");
    Path copy = tmp.resolve("logtail.logrotate");
    Files.writeString(copy, conf.replace("/var/log/nginx/beacons.log", log.toString())
        .replace("/run/nginx.pid", tmp.resolve("nginx.pid").toString()));
    // -d: dry run (prints, changes nothing); -f: go through a rotation even though the log is new.
    Result r = run(List.of(tool("logrotate", "logrotate"), "-d", "-f", "-s", tmp.resolve("state").toString(),
        copy.toString()));
    List<String> errors = r.lines().stream().filter(l -> l.toLowerCase().startsWith("error")).toList();
    assertTrue(errors.isEmpty(), "logrotate -d reports errors:\n" + r.output());
    assertEquals(0, r.exit(), "logrotate -d failed:\n" + r.output());
    assertTrue(r.output().contains("renaming " + log + " to " + log + ".1"), r.output());
    assertTrue(r.output().contains("creating new " + log + " mode = 0640"), r.output());
    assertTrue(r.output().contains("running postrotate script"), r.output());
  }

  /**
   * A copy named logtail.service (so complaints name it), with ExecStart pointing at an executable that
   * exists here: the repository's own launcher. Everything else, User=logtail included, unchanged.
   */
  private Path unitCopy(String unit) throws IOException {
    assertEquals(1, count(unit, EXEC_START), "expected exactly one line " + EXEC_START);
    assertTrue(unit.contains("\nUser=logtail\n"));
    Path launcher = ROOT.resolve("logtail").toAbsolutePath();
    assertTrue(Files.isExecutable(launcher), launcher + " is not executable");
    Path dir = Files.createDirectory(tmp.resolve("unit"));
    Path copy = dir.resolve("logtail.service");
    Files.writeString(copy, unit.replace(EXEC_START, "ExecStart=" + launcher + " run $LOGTAIL_ARGS"));
    return copy;
  }

  private static int count(String s, String sub) {
    int n = 0;
    for (int i = s.indexOf(sub); i >= 0; i = s.indexOf(sub, i + 1)) {
      n++;
    }
    return n;
  }

  /** The tool's path; fails (not skips) with the package to install when it is missing. */
  private static String tool(String name, String pkg) {
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
      Path p = Path.of(dir.isEmpty() ? "." : dir, name);
      if (Files.isExecutable(p)) {
        return p.toString();
      }
    }
    for (String dir : List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin")) {
      Path p = Path.of(dir, name);
      if (Files.isExecutable(p)) {
        return p.toString();
      }
    }
    return fail(name + " is not installed, so systemd/ cannot be checked. Install the package '" + pkg
        + "' (./run-tests does so when run as root on Debian: apt-get install " + pkg + ").");
  }

  private static Result run(List<String> cmd) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(new ArrayList<>(cmd)).redirectErrorStream(true);
    pb.environment().put("SYSTEMD_PAGER", "cat");
    pb.environment().put("SYSTEMD_COLORS", "0");
    Process p = pb.start();
    p.getOutputStream().close();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      fail(String.join(" ", cmd) + " did not finish in 60 s");
    }
    return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
  }

  private static Path repoRoot() {
    for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
      if (Files.isRegularFile(d.resolve("systemd/logtail.service")) && Files.isRegularFile(d.resolve("run-tests"))) {
        return d;
      }
    }
    throw new IllegalStateException("cannot find the repository root (systemd/logtail.service) above "
        + Path.of("").toAbsolutePath());
  }
}
