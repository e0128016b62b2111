package io.logtail.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Pattern;

/** HTTP and waiting helpers for the admin tests: conditions with deadlines, no fixed sleeps. */
public final class AdminTestSupport {
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  /** One line of Prometheus text format: a comment (# HELP/# TYPE), or name{labels} value. */
  static final Pattern PROM_LINE = Pattern.compile(
      "^(# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .*"
          + "|[a-zA-Z_:][a-zA-Z0-9_:]*(\\{([a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\\\n]|\\\\[\\\\\"n])*\",?)*\\})? "
          + "(NaN|[+-]Inf|[+-]?[0-9]+(\\.[0-9]+)?([eE][+-]?[0-9]+)?)( [0-9]+)?)$");

  private AdminTestSupport() {}

  record Resp(int code, String body) {}

  static Resp get(int port, String path, String token) throws IOException, InterruptedException {
    return request(port, path, "GET", token);
  }

  static Resp request(int port, String path, String method, String token) throws IOException, InterruptedException {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(5)).method(method, HttpRequest.BodyPublishers.noBody());
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    return new Resp(r.statusCode(), r.body());
  }

  static JsonNode status(int port) throws IOException, InterruptedException {
    Resp r = get(port, "/status", null);
    if (r.code() != 200) {
      throw new IOException("/status answered " + r.code() + ": " + r.body());
    }
    return JSON.readTree(r.body());
  }

  /** Polls {@code cond} every 100 ms until true or the deadline; fails with {@code what} and the last state. */
  public static void await(Duration timeout, String what, Callable<Boolean> cond, Callable<Object> describe) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    Exception last = null;
    while (System.nanoTime() < deadline) {
      try {
        if (Boolean.TRUE.equals(cond.call())) {
          return;
        }
      } catch (Exception e) {
        last = e;
      }
      LockSupport.parkNanos(100_000_000L);
    }
    Object d;
    try {
      d = describe.call();
    } catch (Exception e) {
      d = e.toString();
    }
    throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting for " + what
        + (last == null ? "" : " (last error " + last + ")") + "; state: " + d);
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** Appends {@code lines} generated lines to {@code log}, as one write. */
  public static void appendLines(java.nio.file.Path log, io.logtail.gen.LogGenerator gen, int lines)
      throws IOException {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < lines; i++) {
      sb.append(gen.nextLine());
    }
    java.nio.file.Files.writeString(log, sb, java.nio.charset.StandardCharsets.UTF_8,
        java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
  }

  /** The first column of the first row of {@code sql}, on a connection of its own. */
  public static long queryLong(String url, String sql) throws java.sql.SQLException {
    try (java.sql.Connection c = java.sql.DriverManager.getConnection(url); java.sql.Statement st = c.createStatement();
        java.sql.ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /** The first column of the first row of {@code sql} as text, on a connection of its own. */
  public static String queryText(String url, String sql) throws java.sql.SQLException {
    try (java.sql.Connection c = java.sql.DriverManager.getConnection(url); java.sql.Statement st = c.createStatement();
        java.sql.ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }
}
