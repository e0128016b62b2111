package io.logtail.db;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import io.logtail.db.EmbeddedPostgres.RunAs;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the PostgreSQL command-line programs (initdb, pg_ctl) as a user PostgreSQL accepts.
 *
 * <p>PostgreSQL refuses to run as root. When this JVM's effective uid is 0 every command is wrapped:
 * preferably in {@code unshare -U} (a user namespace in which the process is {@code nobody}, while on
 * disk its files stay owned by root, so no chown is needed), else in {@code setpriv --reuid=65534
 * --regid=65534 --clear-groups} with the data directories chowned to 65534. Which one works is
 * detected once per JVM.
 */
final class PgCommands {
  private static final Logger log = LoggerFactory.getLogger(PgCommands.class);

  /** uid/gid of {@code nobody}, the user PostgreSQL runs as under {@link RunAs#SETPRIV}. */
  static final int NOBODY = 65534;

  /** The result of one command: exit code and its combined stdout/stderr. */
  record Result(int exitCode, String output) {}

  private static volatile RunAs detected;

  private final RunAs runAs;

  PgCommands(RunAs requested) {
    this.runAs = requested == RunAs.AUTO ? detect() : requested;
  }

  RunAs runAs() {
    return runAs;
  }

  /** The effective uid of this process, from /proc/self/status (else {@code id -u}). */
  static int effectiveUid() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("Uid:")) {
          return Integer.parseInt(line.substring(4).trim().split("\\s+")[1]);
        }
      }
    } catch (IOException | RuntimeException e) {
      // fall through to id -u
    }
    Result r = exec(List.of("id", "-u"), Map.of(), Duration.ofSeconds(10));
    return Integer.parseInt(r.output().trim());
  }

  static synchronized RunAs detect() {
    if (detected != null) {
      return detected;
    }
    RunAs chosen;
    if (effectiveUid() != 0) {
      chosen = RunAs.DIRECT;
      log.info("Embedded PostgreSQL: running its programs as this user (not root)");
    } else if (works(List.of("unshare", "-U", "true"))) {
      chosen = RunAs.UNSHARE;
      log.info("Embedded PostgreSQL: running as root, so its programs run inside 'unshare -U'"
          + " (a user namespace where they are 'nobody'; PostgreSQL refuses to run as root)");
    } else if (works(List.of("setpriv", "--reuid=" + NOBODY, "--regid=" + NOBODY, "--clear-groups", "true"))) {
      chosen = RunAs.SETPRIV;
      log.info("Embedded PostgreSQL: running as root and 'unshare -U' is not permitted here, so its"
          + " programs run as uid {} through 'setpriv' and its data directory is chowned to {}",
          NOBODY, NOBODY);
    } else {
      throw new IllegalStateException("PostgreSQL refuses to run as root, and neither 'unshare -U' nor"
          + " 'setpriv --reuid=" + NOBODY + "' works here. Run logtail as an unprivileged user, or"
          + " install util-linux (apt-get install util-linux), or use an external database with --db-url.");
    }
    detected = chosen;
    return chosen;
  }

  private static boolean works(List<String> command) {
    try {
      return exec(command, Map.of(), Duration.ofSeconds(10)).exitCode() == 0;
    } catch (RuntimeException e) {
      return false;
    }
  }

  /** Runs {@code command} as a user PostgreSQL accepts, waiting at most {@code timeout}. */
  Result run(List<String> command, Duration timeout) {
    return exec(wrap(command), pgEnvironment(), timeout);
  }

  List<String> wrap(List<String> command) {
    List<String> full = new ArrayList<>();
    switch (runAs) {
      case UNSHARE -> full.addAll(List.of("unshare", "-U"));
      case SETPRIV -> full.addAll(List.of("setpriv", "--reuid=" + NOBODY, "--regid=" + NOBODY, "--clear-groups"));
      default -> { }
    }
    full.addAll(command);
    return full;
  }

  private static Map<String, String> pgEnvironment() {
    return Map.of("LC_ALL", "C", "LANG", "C");
  }

  /**
   * Runs a command with its output sent to a temporary file rather than a pipe: a daemon it starts
   * (the postmaster) could inherit a pipe and keep it open, so reading to its end would never end.
   */
  static Result exec(List<String> command, Map<String, String> env, Duration timeout) {
    Path out = null;
    try {
      out = Files.createTempFile("logtail-pg-cmd", ".out");
      ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(out.toFile()).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
      // the PG* variables of whoever started us must not redirect our commands elsewhere
      pb.environment().keySet().removeIf(k -> k.startsWith("PG"));
      pb.environment().putAll(env);
      Process p = pb.start();
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
        throw new IllegalStateException("'" + String.join(" ", command) + "' did not finish within "
            + timeout.toSeconds() + " s; output so far:\n" + Files.readString(out, StandardCharsets.UTF_8));
      }
      return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("could not run '" + String.join(" ", command) + "': " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running '" + String.join(" ", command) + "'", e);
    } finally {
      if (out != null) {
        try {
          Files.deleteIfExists(out);
        } catch (IOException ignored) {
          // a temp file left behind is harmless
        }
      }
    }
  }
}
