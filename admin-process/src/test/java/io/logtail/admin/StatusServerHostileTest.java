package io.logtail.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The status port under hostile clients: bad paths, methods and request lines, a 1 MB header, a 1 MB
 * request line, clients that send nothing or one byte at a time, many concurrent connections, and the
 * token. Always an exact status code, never a stack trace, bounded threads and memory, and the port
 * keeps serving.
 */
class StatusServerHostileTest {
  static final Duration SHORT = Duration.ofSeconds(1);

  record Raw(int code, String head, String body) {}

  /** Sends {@code req} on a fresh connection and reads the response to EOF. */
  static Raw raw(int port, byte[] req) throws IOException {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
      s.setSoTimeout(10_000);
      try {
        OutputStream o = s.getOutputStream();
        o.write(req);
        o.flush();
      } catch (IOException e) {
        // the server may answer (414, 431) and stop reading before all of req is sent
      }
      String r = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
      assertTrue(r.startsWith("HTTP/1.1 "), "not an HTTP response: " + r);
      int sep = r.indexOf("\r\n\r\n");
      String body = r.substring(sep + 4);
      assertFalse(body.contains("Exception") || body.contains("\tat ") || body.contains("java."), "stack trace in: " + body);
      return new Raw(Integer.parseInt(r.substring(9, 12)), r.substring(0, sep), body);
    }
  }

  static Raw raw(int port, String req) throws IOException {
    return raw(port, req.getBytes(StandardCharsets.ISO_8859_1));
  }

  static String get(String target) {
    return "GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n";
  }

  static Stream<Arguments> requests() {
    return Stream.of(
        Arguments.of("status", get("/status"), 200),
        Arguments.of("health", get("/health"), 200),
        Arguments.of("metrics", get("/metrics"), 200),
        Arguments.of("query ignored", get("/status?x=%ZZ&y"), 200),
        Arguments.of("absolute form", get("http://example.org/health"), 200),
        Arguments.of("http/1.0", "GET /health HTTP/1.0\r\n\r\n", 200),
        Arguments.of("bare LF", "GET /health HTTP/1.1\nHost: x\n\n", 200),
        Arguments.of("garbage header line", "GET /health HTTP/1.1\r\n\0\0\u00ff\u00fe\r\nno colon\r\n\r\n", 200),
        Arguments.of("root", get("/"), 404),
        Arguments.of("trailing slash", get("/status/"), 404),
        Arguments.of("double slash", get("//status"), 404),
        Arguments.of("dot dot", get("/../status"), 404),
        Arguments.of("percent-encoded", get("/%73tatus"), 404),
        Arguments.of("NUL in path", get("/status\0"), 404),
        Arguments.of("non-ASCII path", get("/st\u00e4tus"), 404),
        Arguments.of("asterisk", get("*"), 404),
        Arguments.of("traversal", get("/../../etc/passwd"), 404),
        Arguments.of("POST", "POST /status HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", 405),
        Arguments.of("PUT", "PUT /health HTTP/1.1\r\n\r\n", 405),
        Arguments.of("DELETE", "DELETE /metrics HTTP/1.1\r\n\r\n", 405),
        Arguments.of("TRACE", "TRACE /status HTTP/1.1\r\n\r\n", 405),
        Arguments.of("OPTIONS", "OPTIONS /status HTTP/1.1\r\n\r\n", 405),
        Arguments.of("CONNECT", "CONNECT /status HTTP/1.1\r\n\r\n", 405),
        Arguments.of("lower-case get", "get /status HTTP/1.1\r\n\r\n", 405),
        Arguments.of("invented method", "BREW /status HTTP/1.1\r\n\r\n", 405),
        Arguments.of("POST unknown path", "POST /nope HTTP/1.1\r\n\r\n", 404),
        Arguments.of("no version", "GET /status\r\n\r\n", 400),
        Arguments.of("HTTP/2.0", "GET /status HTTP/2.0\r\n\r\n", 400),
        Arguments.of("two spaces", "GET  /status HTTP/1.1\r\n\r\n", 400),
        Arguments.of("empty request line", "\r\n\r\n", 400),
        Arguments.of("TLS hello", "\u0016\u0003\u0001\u0002\u0000\u0001\u0000\u0001\u00fc\u0003\u0003\r\n\r\n", 400),
        Arguments.of("control char method", "G\u0001T /status HTTP/1.1\r\n\r\n", 400),
        Arguments.of("just under the limit", "GET /health HTTP/1.1\r\nX-Pad: " + "p".repeat(15_000) + "\r\n\r\n", 200));
  }

  @ParameterizedTest(name = "[{index}] {0} -> {2}")
  @MethodSource("requests")
  void exactCodeNoStackTrace(String name, String req, int code) throws Exception {
    try (StatusServer s = StatusServer.start("127.0.0.1:0", null, StatusServerTest.source(null))) {
      Raw r = raw(s.address().getPort(), req);
      assertEquals(code, r.code(), name + ": " + r.head());
      assertTrue(r.head().contains("Connection: close"), r.head());
      if (code == 405) {
        assertTrue(r.head().contains("Allow: GET, HEAD"), r.head());
      }
      // and the port still serves
      assertEquals(200, raw(s.address().getPort(), get("/health")).code());
    }
  }

  @Test
  void headHasNoBody() throws Exception {
    try (StatusServer s = StatusServer.start("127.0.0.1:0", null, StatusServerTest.source(null))) {
      Raw r = raw(s.address().getPort(), "HEAD /status HTTP/1.1\r\n\r\n");
      assertEquals(200, r.code());
      assertEquals("", r.body());
    }
  }

  /** Bytes allocated so far by the server's own threads. */
  static long serverAllocated() {
    var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long sum = 0;
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.getName().startsWith("logtail-status")) {
        sum += Math.max(0, mx.getThreadAllocatedBytes(t.getId()));
      }
    }
    return sum;
  }

  @Test
  void megabyteHeaderIs431AndNotBuffered() throws Exception {
    try (StatusServer s = StatusServer.start("127.0.0.1:0", null, StatusServerTest.source(null))) {
      int port = s.address().getPort();
      assertEquals(200, raw(port, get("/health")).code()); // warm up
      long before = serverAllocated();
      Raw r = raw(port, "GET /status HTTP/1.1\r\nHost: x\r\nX-Big: " + "h".repeat(1 << 20) + "\r\n\r\n");
      long allocated = serverAllocated() - before;
      assertEquals(431, r.code(), r.head());
      assertTrue(allocated < 256 * 1024, "server threads allocated " + allocated + " bytes for a 1 MB header");
      assertEquals(200, raw(port, get("/health")).code());
    }
  }

  @Test
  void megabyteRequestLineIs414AndNotBuffered() throws Exception {
    try (StatusServer s = StatusServer.start("127.0.0.1:0", null, StatusServerTest.source(null))) {
      int port = s.address().getPort();
      assertEquals(200, raw(port, get("/health")).code());
      long before = serverAllocated();
      Raw r = raw(port, "GET /" + "a".repeat(1 << 20) + " HTTP/1.1\r\n\r\n");
      long allocated = serverAllocated() - before;
      assertEquals(414, r.code(), r.head());
      assertTrue(allocated < 256 * 1024, "server threads allocated " + allocated + " bytes for a 1 MB request line");
      assertEquals(200, raw(port, get("/health")).code());
    }
  }

  /** Waits until {@code in} reaches EOF (or a reset); returns the bytes received, failing after the deadline. */
  static String awaitClosed(Socket sock, Duration within) throws IOException {
    long end = System.nanoTime() + within.toNanos();
    sock.setSoTimeout(100);
    InputStream in = sock.getInputStream();
    StringBuilder got = new StringBuilder();
    while (System.nanoTime() < end) {
      try {
        int b = in.read();
        if (b < 0) {
          return got.toString();
        }
        got.append((char) b);
      } catch (SocketTimeoutException e) {
        // keep waiting
      } catch (IOException e) {
        return got.toString(); // reset: dropped too
      }
    }
    throw new AssertionError("connection still open after " + within);
  }

  @Test
  void slowClientsDoNotBlockOthersAndAreDropped() throws Exception {
    StatusServer.Limits lim = new StatusServer.Limits(64, 16 * 1024, SHORT);
    try (StatusServer s = StatusServer.start("127.0.0.1:0", null, StatusServerTest.source(null), lim)) {
      int port = s.address().getPort();
      List<Socket> silent = new ArrayList<>();
      List<Socket> drips = new ArrayList<>();
      AtomicBoolean stop = new AtomicBoolean();
      ExecutorService ex = Executors.newFixedThreadPool(10);
      try {
        for (int i = 0; i < 10; i++) {
          silent.add(new Socket("127.0.0.1", port));
          Socket d = new Socket("127.0.0.1", port);
          drips.add(d);
          // one byte every 100 ms: would take seconds to send a whole request
          ex.submit(() -> {
            byte[] req = get("/health").getBytes(StandardCharsets.ISO_8859_1);
            try {
              for (int k = 0; k < req.length && !stop.get(); k++) {
                d.getOutputStream().write(req[k]);
                d.getOutputStream().flush();
                LockSupport.parkNanos(100_000_000L);
              }
            } catch (IOException e) {
              // dropped by the server: expected
            }
            return null;
          });
        }
        long t0 = System.nanoTime();
        // meanwhile the port answers everyone else at once
        for (int i = 0; i < 20; i++) {
          long q = System.nanoTime();
          assertEquals(200, raw(port, get("/health")).code());
          assertTrue(System.nanoTime() - q < 500_000_000L, "a normal request waited behind slow clients");
        }
        assertTrue(s.openConnections() >= 1 || System.nanoTime() - t0 > SHORT.toNanos());
        // and the slow ones are dropped after the request timeout (1 s here)
        for (Socket sk : silent) {
          assertEquals("", awaitClosed(sk, Duration.ofSeconds(5)), "a silent client is closed without a response");
        }
        for (Socket sk : drips) {
          String got = awaitClosed(sk, Duration.ofSeconds(5));
          assertTrue(got.isEmpty() || got.startsWith("HTTP/1.1 408 "), got);
        }
        assertTrue(System.nanoTime() - t0 < 5_000_000_000L);
        AdminTestSupport.await(Duration.ofSeconds(5), "no open connections", () -> s.openConnections() == 0,
            s::openConnections);
      } finally {
        stop.set(true);
        ex.shutdownNow();
        for (Socket sk : silent) sk.close();
        for (Socket sk : drips) sk.close();
      }
    }
  }

  @Test
  void connectionsAreCappedAndTheCapRecovers() throws Exception {
    StatusServer.Limits lim = new StatusServer.Limits(4, 16 * 1024, SHORT);
    try (StatusServer s = StatusServer.start("127.0.0.1:0", null, StatusServerTest.source(null), lim)) {
      int port = s.address().getPort();
      List<Socket> hogs = new ArrayList<>();
      try {
        for (int i = 0; i < 10; i++) {
          hogs.add(new Socket("127.0.0.1", port)); // accepted by the kernel; at most 4 by the server
        }
        AdminTestSupport.await(Duration.ofSeconds(5), "4 connections open", () -> s.openConnections() == 4,
            s::openConnections);
        // a real client waits in the backlog until the hogs time out, then is served
        long t0 = System.nanoTime();
        assertEquals(200, raw(port, get("/health")).code());
        assertTrue(System.nanoTime() - t0 < 6_000_000_000L);
        assertTrue(s.openConnections() <= 4);
      } finally {
        for (Socket sk : hogs) sk.close();
      }
    }
  }

  @Test
  void manyConcurrentClients() throws Exception {
    try (StatusServer s = StatusServer.start("127.0.0.1:0", null, StatusServerTest.source(null))) {
      int port = s.address().getPort();
      ExecutorService ex = Executors.newFixedThreadPool(100);
      AtomicInteger maxOpen = new AtomicInteger();
      try {
        List<Future<Integer>> fs = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
          String path = i % 3 == 0 ? "/status" : i % 3 == 1 ? "/metrics" : "/health";
          fs.add(ex.submit(() -> {
            maxOpen.accumulateAndGet(s.openConnections(), Math::max);
            return raw(port, get(path)).code();
          }));
        }
        for (Future<Integer> f : fs) {
          assertEquals(200, f.get());
        }
      } finally {
        ex.shutdownNow();
      }
      assertTrue(maxOpen.get() <= StatusServer.Limits.DEFAULT.maxConnections(), "open " + maxOpen.get());
      long serverThreads = Thread.getAllStackTraces().keySet().stream()
          .filter(t -> t.getName().startsWith("logtail-status") && t.isAlive()).count();
      assertTrue(serverThreads <= 3, "status port threads: " + serverThreads);
      assertEquals(200, raw(port, get("/health")).code());
    }
  }

  @Test
  void tokenOffLoopback() throws Exception {
    for (String addr : new String[] {"0.0.0.0:0", ":0", "[::]:0"}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> StatusServer.start(addr, null, StatusServerTest.source(null)), addr);
      assertTrue(e.getMessage().contains("--status-token"), e.getMessage());
      assertThrows(IllegalArgumentException.class, () -> StatusServer.start(addr, "", StatusServerTest.source(null)));
    }
    try (StatusServer s = StatusServer.start("127.0.0.2:0", null, StatusServerTest.source(null))) {
      assertTrue(s.address().getAddress().isLoopbackAddress()); // any 127/8 address needs no token
    }
    try (StatusServer s = StatusServer.start("0.0.0.0:0", "s3cret", StatusServerTest.source(null))) {
      int port = s.address().getPort();
      String st = "GET /status HTTP/1.1\r\n";
      assertEquals(200, raw(port, st + "Authorization: Bearer s3cret\r\n\r\n").code());
      assertEquals(200, raw(port, st + "authorization:   Bearer s3cret  \r\n\r\n").code());
      assertEquals(401, raw(port, st + "\r\n").code());
      assertEquals(401, raw(port, st + "Authorization: bearer s3cret\r\n\r\n").code());
      assertEquals(401, raw(port, st + "Authorization: Bearer s3cre\r\n\r\n").code());
      assertEquals(401, raw(port, st + "Authorization: Bearer s3cretx\r\n\r\n").code());
      assertEquals(401, raw(port, st + "Authorization: Basic czNjcmV0\r\n\r\n").code());
      assertEquals(401, raw(port, st + "Authorization: Bearer wrong\r\nAuthorization: Bearer s3cret\r\n\r\n").code());
      assertEquals(401, raw(port, "GET /status?token=s3cret HTTP/1.1\r\n\r\n").code());
      Raw r = raw(port, "GET /nope HTTP/1.1\r\n\r\n");
      assertEquals(401, r.code(), "paths are not revealed without the token");
      assertTrue(r.head().contains("WWW-Authenticate: Bearer"), r.head());
      assertEquals(401, raw(port, "POST /status HTTP/1.1\r\n\r\n").code());
    }
  }
}
