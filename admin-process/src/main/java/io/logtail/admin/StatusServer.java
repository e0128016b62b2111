package io.logtail.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The status port: {@code GET /status} (JSON), {@code GET /metrics} (Prometheus text),
 * {@code GET /health} (200 {@code ok}, or 503 with the reason). With a token every request needs
 * {@code Authorization: Bearer <token>} (401 otherwise); a non-loopback address without a token is
 * refused at start. Unknown paths get 404, other methods 405; errors are answered 500 with a one-line
 * message, never a stack trace.
 */
public final class StatusServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(StatusServer.class);

  /** What the server shows; {@link AdminProcess} in production. */
  public interface Source {
    JsonNode status();

    String unhealthyReason();
  }

  private final HttpServer http;
  private final ExecutorService pool;
  private final String token;
  private final Metrics metrics;

  private StatusServer(HttpServer http, ExecutorService pool, String token, Metrics metrics) {
    this.http = http;
    this.pool = pool;
    this.token = token;
    this.metrics = metrics;
  }

  /** Parses {@code host:port} ({@code [v6]:port} too). */
  static InetSocketAddress parseAddr(String addr) {
    int colon = addr.lastIndexOf(':');
    if (colon < 0) {
      throw new IllegalArgumentException("--status-addr '" + addr + "' is not HOST:PORT");
    }
    String host = addr.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port;
    try {
      port = Integer.parseInt(addr.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--status-addr '" + addr + "': bad port");
    }
    try {
      return new InetSocketAddress(InetAddress.getByName(host.isEmpty() ? "0.0.0.0" : host), port);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("--status-addr '" + addr + "': unknown host " + host);
    }
  }

  /**
   * Binds and starts the server.
   *
   * @throws IllegalArgumentException when the address is not loopback and there is no token
   */
  public static StatusServer start(String addr, String token, AdminProcess admin) throws IOException {
    return start(addr, token, new Source() {
      @Override
      public JsonNode status() {
        return admin.status();
      }

      @Override
      public String unhealthyReason() {
        return admin.unhealthyReason();
      }
    });
  }

  public static StatusServer start(String addr, String token, Source src) throws IOException {
    InetSocketAddress a = parseAddr(addr);
    String tok = token == null || token.isBlank() ? null : token;
    if (!a.getAddress().isLoopbackAddress() && tok == null) {
      throw new IllegalArgumentException("--status-addr " + addr + " is not a loopback address: the status port"
          + " would be open to the network without authentication. Set --status-token (or LOGTAIL_STATUS_TOKEN),"
          + " or bind to 127.0.0.1");
    }
    HttpServer http = HttpServer.create(a, 16);
    ExecutorService pool = Executors.newFixedThreadPool(2, r -> {
      Thread t = new Thread(r, "logtail-status-http");
      t.setDaemon(true);
      return t;
    });
    http.setExecutor(pool);
    StatusServer s = new StatusServer(http, pool, tok, new Metrics(src));
    http.createContext("/", ex -> s.handle(ex, src));
    http.start();
    return s;
  }

  public InetSocketAddress address() {
    return http.getAddress();
  }

  private void handle(HttpExchange ex, Source src) throws IOException {
    try (ex) {
      try {
        if (token != null && !authorized(ex.getRequestHeaders().getFirst("Authorization"))) {
          ex.getResponseHeaders().add("WWW-Authenticate", "Bearer");
          send(ex, 401, "text/plain", "unauthorized: send Authorization: Bearer <token>\n");
          return;
        }
        String path = ex.getRequestURI().getPath();
        if (!path.equals("/status") && !path.equals("/metrics") && !path.equals("/health")) {
          send(ex, 404, "text/plain", "not found: try /status, /metrics or /health\n");
          return;
        }
        String m = ex.getRequestMethod();
        if (!m.equals("GET") && !m.equals("HEAD")) {
          ex.getResponseHeaders().add("Allow", "GET, HEAD");
          send(ex, 405, "text/plain", "method not allowed\n");
          return;
        }
        switch (path) {
          case "/status" -> send(ex, 200, "application/json",
              AdminProcess.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(src.status()) + "\n");
          case "/metrics" -> send(ex, 200, "text/plain; version=0.0.4; charset=utf-8", metrics.scrape());
          default -> {
            String why = src.unhealthyReason();
            send(ex, why == null ? 200 : 503, "text/plain", why == null ? "ok\n" : why + "\n");
          }
        }
      } catch (RuntimeException | IOException e) {
        log.warn("status port: {} {}: {}", ex.getRequestMethod(), ex.getRequestURI(), e.toString());
        try {
          send(ex, 500, "text/plain", "internal error\n");
        } catch (IOException | RuntimeException ignored) {
          // response already started, or the client went away
        }
      }
    }
  }

  private boolean authorized(String header) {
    if (header == null || !header.startsWith("Bearer ")) {
      return false;
    }
    byte[] given = header.substring(7).trim().getBytes(StandardCharsets.UTF_8);
    return MessageDigest.isEqual(given, token.getBytes(StandardCharsets.UTF_8));
  }

  private static void send(HttpExchange ex, int code, String type, String body) throws IOException {
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", type);
    ex.getResponseHeaders().set("Cache-Control", "no-store");
    boolean head = ex.getRequestMethod().equals("HEAD");
    ex.sendResponseHeaders(code, head ? -1 : b.length);
    if (!head) {
      try (OutputStream o = ex.getResponseBody()) {
        o.write(b);
      }
    }
  }

  @Override
  public void close() {
    http.stop(0);
    pool.shutdownNow();
  }
}
