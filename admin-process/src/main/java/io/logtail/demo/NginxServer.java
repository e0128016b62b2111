package io.logtail.demo;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A real nginx on a loopback port, serving beacons with the very snippet logtail ships for production
 * ({@code systemd/nginx-beacons.conf}, packaged in this jar), for {@code logtail demo} and the
 * end-to-end tests. Rotation runs the real {@code logrotate} with the shipped policy
 * ({@code systemd/logrotate-logtail}: rename, {@code delaycompress}, {@code USR1}).
 *
 * <p>Everything lives under one directory: {@code nginx.conf}, {@code beacons.conf} (the shipped
 * snippet with its port and log path changed, and nothing else), {@code beacons.log} (the queue),
 * {@code site.log} (requests outside {@code /b/}), {@code error.log}, {@code nginx.pid} and temp
 * directories. When run as root the workers run as root too, so that they can reopen the logs in a
 * private (0700) directory on {@code USR1}.
 *
 * <p>Optionally a second server on its own port serves the results page and the published files with
 * the shipped {@code systemd/nginx-results.conf} ({@code results.conf}: its port and root changed, and
 * nothing else), for the results end-to-end test and the serving benchmark.
 */
public final class NginxServer implements AutoCloseable {
  private static final String SNIPPET = "nginx-beacons.conf";
  private static final String ROTATE = "logrotate-logtail";
  private static final String RESULTS = "nginx-results.conf";
  private static final String BALANCER = "nginx-balancer.conf";

  private final Path dir;
  private final int port;
  private final int resultsPort;
  private final Process process;

  private NginxServer(Path dir, int port, int resultsPort, Process process) {
    this.dir = dir;
    this.port = port;
    this.resultsPort = resultsPort;
    this.process = process;
  }

  /** The nginx binary: {@code /usr/sbin/nginx}, or {@code nginx} on the PATH. */
  public static Optional<Path> findBinary() {
    return which("nginx", "/usr/sbin/nginx");
  }

  /** The logrotate binary: {@code /usr/sbin/logrotate} or {@code logrotate} on the PATH. */
  public static Optional<Path> findLogrotate() {
    return which("logrotate", "/usr/sbin/logrotate");
  }

  /** {@code usual} when executable, else {@code name} on the PATH (also for the tests' other tools). */
  static Optional<Path> which(String name, String usual) {
    if (Files.isExecutable(Path.of(usual))) {
      return Optional.of(Path.of(usual));
    }
    for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (!d.isEmpty() && Files.isExecutable(Path.of(d, name))) {
        return Optional.of(Path.of(d, name));
      }
    }
    return Optional.empty();
  }

  /**
   * Writes the configuration under {@code dir} and starts nginx (master + {@code workers} workers) on
   * {@code 127.0.0.1:port}; returns once it accepts connections.
   *
   * @throws IOException when nginx does not start; the message holds its error log
   */
  public static NginxServer start(Path binary, Path dir, int port, int workers) throws IOException {
    return start(binary, dir, port, workers, 0, null);
  }

  /**
   * As {@link #start(Path, Path, int, int)}, plus, when {@code resultsRoot} is not null, the shipped
   * results server on {@code 127.0.0.1:resultsPort} serving {@code resultsRoot} (the publish directory
   * with the page copied into it).
   */
  public static NginxServer start(Path binary, Path dir, int port, int workers, int resultsPort, Path resultsRoot)
      throws IOException {
    dir = dir.toAbsolutePath();
    Files.createDirectories(dir.resolve("tmp"));
    Files.writeString(dir.resolve("beacons.conf"), snippet(dir, port));
    List<String> includes = new java.util.ArrayList<>(List.of("beacons.conf"));
    if (resultsRoot != null) {
      Files.writeString(dir.resolve("results.conf"), resultsSnippet(resultsRoot.toAbsolutePath(), resultsPort));
      includes.add("results.conf");
    }
    return launch(binary, dir, port, workers, includes, resultsRoot != null ? resultsPort : 0,
        "the beacon server is the shipped snippet");
  }

  /**
   * Starts a balancer nginx on {@code 127.0.0.1:port} from the shipped {@code systemd/nginx-balancer.conf},
   * with its upstream's hosts replaced by {@code backends} (ports of beacon nginx servers on 127.0.0.1)
   * and nothing else changed.
   */
  public static NginxServer startBalancer(Path binary, Path dir, int port, List<Integer> backends, int workers)
      throws IOException {
    dir = dir.toAbsolutePath();
    Files.createDirectories(dir.resolve("tmp"));
    Files.writeString(dir.resolve("balancer.conf"), balancerSnippet(port, backends));
    return launch(binary, dir, port, workers, List.of("balancer.conf"), 0, "the balancer is the shipped snippet");
  }

  private static NginxServer launch(Path binary, Path dir, int port, int workers, List<String> includes,
      int resultsPort, String what) throws IOException {
    StringBuilder incl = new StringBuilder();
    for (String include : includes) {
      incl.append("  include ").append(dir.resolve(include)).append(";\n");
    }
    String conf = String.join("\n",
        "# written by logtail (io.logtail.demo.NginxServer); " + what,
        "daemon off;",
        "master_process on;",
        "worker_processes " + workers + ";",
        runningAsRoot() ? "user root root;" : "",
        "pid " + dir.resolve("nginx.pid") + ";",
        "error_log " + dir.resolve("error.log") + " warn;",
        "events { worker_connections 1024; }",
        "http {",
        "  access_log " + dir.resolve("site.log") + ";",
        "  client_body_temp_path " + dir.resolve("tmp/body") + ";",
        "  proxy_temp_path " + dir.resolve("tmp/proxy") + ";",
        "  fastcgi_temp_path " + dir.resolve("tmp/fastcgi") + ";",
        "  uwsgi_temp_path " + dir.resolve("tmp/uwsgi") + ";",
        "  scgi_temp_path " + dir.resolve("tmp/scgi") + ";",
        "  # one connection per client for its whole run: a client's beacons are logged in the order sent",
        "  keepalive_requests 10000000;",
        "  keepalive_timeout 300s;",
        incl.toString(),
        "}",
        "");
    Path confFile = dir.resolve("nginx.conf");
    Files.writeString(confFile, conf);
    Files.deleteIfExists(dir.resolve("nginx.pid"));
    Process p = new ProcessBuilder(binary.toString(), "-p", dir + "/", "-c", confFile.toString(),
        "-e", dir.resolve("error.log").toString())
        .redirectErrorStream(true)
        .redirectOutput(dir.resolve("nginx.out").toFile())
        .start();
    NginxServer s = new NginxServer(dir, port, resultsPort, p);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (true) {
      if (!p.isAlive()) {
        throw new IOException("nginx exited with status " + p.exitValue() + " at start; " + s.diagnostics());
      }
      if (Files.exists(dir.resolve("nginx.pid")) && accepts(port) && (resultsPort == 0 || accepts(resultsPort))) {
        return s;
      }
      if (System.nanoTime() > deadline) {
        s.close();
        throw new IOException("nginx did not accept connections on 127.0.0.1:" + port + " within 15 s; " + s.diagnostics());
      }
      LockSupport.parkNanos(20_000_000L);
    }
  }

  /** The shipped beacon snippet with its port and log path replaced; fails when the snippet changed shape. */
  static String snippet(Path dir, int port) throws IOException {
    String s = resource(SNIPPET);
    s = replaceOnce(s, SNIPPET, "    listen 80;\n", "    listen 127.0.0.1:" + port + ";\n");
    s = replaceOnce(s, SNIPPET, "    listen [::]:80;\n", "");
    s = replaceOnce(s, SNIPPET, " /var/log/nginx/beacons.log ", " " + dir.resolve("beacons.log") + " ");
    return s;
  }

  /** The shipped results snippet with its port and root replaced; fails when the snippet changed shape. */
  static String resultsSnippet(Path root, int port) throws IOException {
    String s = resource(RESULTS);
    s = replaceOnce(s, RESULTS, "    listen 80;\n", "    listen 127.0.0.1:" + port + ";\n");
    s = replaceOnce(s, RESULTS, "    listen [::]:80;\n", "");
    s = replaceOnce(s, RESULTS, "    root /var/www/logtail;\n", "    root " + root + ";\n");
    return s;
  }

  /**
   * The shipped balancer snippet with its listen port and its upstream's three example hosts replaced
   * by {@code backends} on 127.0.0.1; fails when the snippet changed shape.
   */
  static String balancerSnippet(int port, List<Integer> backends) throws IOException {
    String s = resource(BALANCER);
    s = replaceOnce(s, BALANCER, "    listen 80;\n", "    listen 127.0.0.1:" + port + ";\n");
    s = replaceOnce(s, BALANCER, "    listen [::]:80;\n", "");
    String first = "    server beacons-1.example.org:80 max_fails=0;\n";
    StringBuilder servers = new StringBuilder();
    for (int b : backends) {
      servers.append("    server 127.0.0.1:").append(b).append(" max_fails=0;\n");
    }
    s = replaceOnce(s, BALANCER, first, servers.toString());
    s = replaceOnce(s, BALANCER, "    server beacons-2.example.org:80 max_fails=0;\n", "");
    s = replaceOnce(s, BALANCER, "    server beacons-3.example.org:80 max_fails=0;\n", "");
    return s;
  }

  /** The shipped logrotate policy for {@code dir}'s beacon log and pid file. */
  static String rotatePolicy(Path dir) throws IOException {
    String s = resource(ROTATE);
    s = replaceOnce(s, ROTATE, "\n/var/log/nginx/beacons.log {", "\n" + dir.resolve("beacons.log") + " {");
    if (!s.contains("/run/nginx.pid")) {
      throw new IllegalStateException(ROTATE + " no longer mentions /run/nginx.pid; update " + NginxServer.class.getName());
    }
    s = s.replace("/run/nginx.pid", dir.resolve("nginx.pid").toString());
    if (!runningAsRoot()) {
      // only root can give the new file to www-data:adm; the rest of the policy is unchanged
      s = replaceOnce(s, ROTATE, "    create 0640 www-data adm\n", "    create 0640\n");
    }
    return s;
  }

  private static String resource(String name) throws IOException {
    try (InputStream in = NginxServer.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IOException("resource " + name + " missing from the jar (copied from systemd/ at build)");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  private static String replaceOnce(String s, String file, String from, String to) {
    int i = s.indexOf(from);
    if (i < 0 || s.indexOf(from, i + 1) >= 0) {
      throw new IllegalStateException("systemd/" + file + " must contain '" + from.strip() + "' exactly once (the demo"
          + " and the end-to-end tests rewrite it); update " + NginxServer.class.getName());
    }
    return s.substring(0, i) + to + s.substring(i + from.length());
  }

  static boolean runningAsRoot() {
    try {
      return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
    } catch (IOException | UnsupportedOperationException e) {
      return false;
    }
  }

  private static boolean accepts(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 200);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  public Path dir() {
    return dir;
  }

  public int port() {
    return port;
  }

  /** The port of the results server, 0 when it was not started. */
  public int resultsPort() {
    return resultsPort;
  }

  /** The access log of the beacons: the queue logtail tails. */
  public Path beaconLog() {
    return dir.resolve("beacons.log");
  }

  /** The glob of the beacon log and its rotated files, as given to {@code logtail run --log}. */
  public String beaconLogGlob() {
    return dir.resolve("beacons.log") + "*";
  }

  /** Runs the shipped logrotate policy now ({@code -f}): rename, {@code delaycompress}, USR1. */
  public void rotate(Path logrotate) throws IOException, InterruptedException {
    Path policy = dir.resolve("logrotate.conf");
    Files.writeString(policy, rotatePolicy(dir));
    Process p = new ProcessBuilder(logrotate.toString(), "-f", "-s", dir.resolve("logrotate.state").toString(),
        policy.toString()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IOException("logrotate exited with status " + p.exitValue() + ": " + out.strip());
    }
  }

  private String diagnostics() {
    StringBuilder b = new StringBuilder();
    for (String f : List.of("nginx.out", "error.log")) {
      try {
        b.append(f).append(": ").append(Files.readString(dir.resolve(f)).strip()).append("; ");
      } catch (IOException e) {
        b.append(f).append(": (none); ");
      }
    }
    return b.toString();
  }

  /** Stops nginx gracefully (QUIT: finish requests, write the logs), then by force after 10 s. */
  @Override
  public void close() {
    if (!process.isAlive()) {
      return;
    }
    try {
      new ProcessBuilder("kill", "-QUIT", Long.toString(process.pid())).start().waitFor();
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    } catch (IOException e) {
      process.destroyForcibly();
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}
