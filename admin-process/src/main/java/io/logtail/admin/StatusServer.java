package io.logtail.admin;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The status port: {@code GET /status} (JSON), {@code GET /metrics} (Prometheus text),
 * {@code GET /health} (200 {@code ok}, or 503 with the reason). With a token every request needs
 * {@code Authorization: Bearer <token>} (401 otherwise); a non-loopback address without a token is
 * refused at start. Unknown paths get 404, other methods 405; errors are answered 500 with a one-line
 * message, never a stack trace.
 *
 * <p>A small HTTP/1.1 server of its own (one request per connection, {@code Connection: close}), built
 * to stay up under hostile clients with bounded memory:
 *
 * <ul>
 *   <li>one selector thread reads every connection without blocking, so a client that sends nothing or
 *       one byte a second never holds a thread; each connection must deliver its whole request head
 *       within {@link Limits#requestTimeout} or is dropped (408 if it had sent something);
 *   <li>a request head (request line and headers) larger than {@link Limits#maxRequestBytes} is answered
 *       414 (request line) or 431 (headers) and closed, having buffered at most that much;
 *   <li>at most {@link Limits#maxConnections} connections are open at once; beyond that new ones wait in
 *       the kernel's accept backlog until a slot frees (by completion or timeout);
 *   <li>responses are computed on two handler threads and written without blocking, within the same
 *       timeout.
 * </ul>
 */
public final class StatusServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(StatusServer.class);

  /** What the server shows; {@link AdminProcess} in production. */
  public interface Source {
    JsonNode status();

    String unhealthyReason();
  }

  /** Resource limits of the status port. */
  public record Limits(int maxConnections, int maxRequestBytes, Duration requestTimeout) {
    public static final Limits DEFAULT = new Limits(64, 16 * 1024, Duration.ofSeconds(5));

    public Limits {
      if (maxConnections < 1 || maxRequestBytes < 256 || requestTimeout.isNegative() || requestTimeout.isZero()) {
        throw new IllegalArgumentException("bad status port limits");
      }
    }
  }

  private final ServerSocketChannel server;
  private final Selector selector;
  private final Thread ioThread;
  private final ExecutorService handlers;
  private final Queue<Conn> ready = new ConcurrentLinkedQueue<>();
  private final String token;
  private final Source src;
  private final Metrics metrics;
  private final Limits limits;
  private final InetSocketAddress address;
  private final List<Conn> open = new ArrayList<>();
  private volatile boolean closed;

  private StatusServer(ServerSocketChannel server, Selector selector, String token, Source src, Limits limits)
      throws IOException {
    this.server = server;
    this.selector = selector;
    this.token = token;
    this.src = src;
    this.metrics = new Metrics(src);
    this.limits = limits;
    this.address = (InetSocketAddress) server.getLocalAddress();
    this.handlers = new ThreadPoolExecutor(2, 2, 0, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
      Thread t = new Thread(r, "logtail-status-http");
      t.setDaemon(true);
      return t;
    });
    this.ioThread = new Thread(this::loop, "logtail-status-io");
    ioThread.setDaemon(true);
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
    return start(addr, token, src, Limits.DEFAULT);
  }

  public static StatusServer start(String addr, String token, Source src, Limits limits) throws IOException {
    InetSocketAddress a = parseAddr(addr);
    String tok = token == null || token.isBlank() ? null : token;
    if (!a.getAddress().isLoopbackAddress() && tok == null) {
      throw new IllegalArgumentException("--status-addr " + addr + " is not a loopback address: the status port"
          + " would be open to the network without authentication. Set --status-token (or LOGTAIL_STATUS_TOKEN),"
          + " or bind to 127.0.0.1");
    }
    ServerSocketChannel ch = ServerSocketChannel.open();
    Selector sel = null;
    try {
      ch.setOption(StandardSocketOptions.SO_REUSEADDR, true);
      ch.bind(a, 128);
      ch.configureBlocking(false);
      sel = Selector.open();
      ch.register(sel, SelectionKey.OP_ACCEPT);
      StatusServer s = new StatusServer(ch, sel, tok, src, limits);
      s.ioThread.start();
      return s;
    } catch (IOException | RuntimeException e) {
      ch.close();
      if (sel != null) {
        sel.close();
      }
      throw e;
    }
  }

  public InetSocketAddress address() {
    return address;
  }

  /** Connections open now (for tests: bounded by {@link Limits#maxConnections}). */
  int openConnections() {
    synchronized (open) {
      return open.size();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // the selector loop

  private enum State { READING, HANDLING, WRITING, DRAINING }

  private final class Conn {
    final SocketChannel ch;
    final SelectionKey key;
    final long deadline;
    final ByteBuffer in;
    State state = State.READING;
    ByteBuffer out;
    long drainDeadline;
    String method;
    String target;
    String authorization;

    Conn(SocketChannel ch, SelectionKey key, long now) {
      this.ch = ch;
      this.key = key;
      this.deadline = now + limits.requestTimeout().toNanos();
      this.in = ByteBuffer.allocate(limits.maxRequestBytes());
    }
  }

  private void loop() {
    ByteBuffer discard = ByteBuffer.allocate(4096);
    try {
      while (!closed) {
        selector.select(250);
        long now = System.nanoTime();
        Iterator<SelectionKey> it = selector.selectedKeys().iterator();
        while (it.hasNext()) {
          SelectionKey k = it.next();
          it.remove();
          if (!k.isValid()) {
            continue;
          }
          try {
            if (k.isAcceptable()) {
              accept(now);
            } else {
              Conn c = (Conn) k.attachment();
              if (k.isReadable()) {
                readable(c, discard);
              }
              if (k.isValid() && k.isWritable()) {
                write(c);
              }
            }
          } catch (IOException | RuntimeException e) {
            if (k.attachment() instanceof Conn c) {
              drop(c);
            } else {
              log.warn("status port: accept failed: {}", e.toString());
            }
          }
        }
        for (Conn c; (c = ready.poll()) != null; ) {
          if (c.ch.isOpen()) {
            c.state = State.WRITING;
            c.key.interestOps(SelectionKey.OP_WRITE);
            try {
              write(c);
            } catch (IOException | RuntimeException e) {
              drop(c);
            }
          }
        }
        expire(System.nanoTime());
        updateAccept();
      }
    } catch (IOException | ClosedSelectorException e) {
      if (!closed) {
        log.error("status port stopped: {}", e.toString());
      }
    } finally {
      synchronized (open) {
        for (Conn c : open) {
          closeQuietly(c.ch);
        }
        open.clear();
      }
    }
  }

  private void accept(long now) throws IOException {
    while (openConnections() < limits.maxConnections()) {
      SocketChannel ch = server.accept();
      if (ch == null) {
        return;
      }
      ch.configureBlocking(false);
      SelectionKey key = ch.register(selector, SelectionKey.OP_READ);
      Conn c = new Conn(ch, key, now);
      key.attach(c);
      synchronized (open) {
        open.add(c);
      }
    }
  }

  /** At capacity the server stops accepting: new connections wait in the kernel's backlog. */
  private void updateAccept() {
    SelectionKey k = server.keyFor(selector);
    if (k != null && k.isValid()) {
      int want = openConnections() < limits.maxConnections() ? SelectionKey.OP_ACCEPT : 0;
      if (k.interestOps() != want) {
        k.interestOps(want);
      }
    }
  }

  private void expire(long now) {
    List<Conn> late = new ArrayList<>();
    synchronized (open) {
      for (Conn c : open) {
        long d = c.state == State.DRAINING ? c.drainDeadline : c.deadline;
        if (now - d > 0 && c.state != State.HANDLING) {
          late.add(c);
        }
      }
    }
    for (Conn c : late) {
      if (c.state == State.READING && c.in.position() > 0) {
        // best effort: one non-blocking write of a 408, then close
        try {
          c.ch.write(response(408, "text/plain", "request timeout\n", false, null));
        } catch (IOException | RuntimeException ignored) {
          // the client is gone or not reading
        }
      }
      drop(c);
    }
  }

  private void readable(Conn c, ByteBuffer discard) throws IOException {
    if (c.state == State.DRAINING) {
      discard.clear();
      if (c.ch.read(discard) < 0) {
        drop(c);
      }
      return;
    }
    if (c.state != State.READING) {
      // a request body or pipelined bytes while we answer: not read now, and not buffered
      c.key.interestOps(c.key.interestOps() & ~SelectionKey.OP_READ);
      return;
    }
    int n = c.ch.read(c.in);
    if (n < 0) {
      drop(c); // the client gave up before sending a whole request
      return;
    }
    int end = headEnd(c.in);
    if (end < 0) {
      if (!c.in.hasRemaining()) {
        boolean lineDone = indexOf(c.in, (byte) '\n') >= 0;
        respondNow(c, lineDone ? 431 : 414, lineDone ? "request header fields too large\n" : "request line too long\n");
      }
      return;
    }
    String head = new String(c.in.array(), 0, end, StandardCharsets.ISO_8859_1);
    String[] lines = head.split("\r?\n");
    String[] rl = lines[0].split(" ", -1);
    if (rl.length != 3 || rl[0].isEmpty() || rl[1].isEmpty() || !rl[2].matches("HTTP/1\\.[01]")
        || !rl[0].chars().allMatch(ch -> ch > 32 && ch < 127)) {
      respondNow(c, 400, "bad request\n");
      return;
    }
    c.method = rl[0];
    c.target = rl[1];
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      if (colon > 0 && c.authorization == null
          && lines[i].substring(0, colon).trim().equalsIgnoreCase("Authorization")) {
        c.authorization = lines[i].substring(colon + 1).trim();
      }
    }
    c.state = State.HANDLING;
    c.key.interestOps(0);
    try {
      handlers.execute(() -> {
        ByteBuffer r;
        try {
          r = handle(c.method, c.target, c.authorization);
        } catch (RuntimeException e) {
          log.warn("status port: {} {}: {}", c.method, c.target, e.toString());
          r = response(500, "text/plain", "internal error\n", c.method.equals("HEAD"), null);
        }
        c.out = r;
        ready.add(c);
        selector.wakeup();
      });
    } catch (RejectedExecutionException e) {
      drop(c); // closing
    }
  }

  private void respondNow(Conn c, int code, String body) throws IOException {
    c.out = response(code, "text/plain", body, false, null);
    c.state = State.WRITING;
    c.key.interestOps(SelectionKey.OP_WRITE);
    write(c);
  }

  private void write(Conn c) throws IOException {
    if (c.state != State.WRITING) {
      return;
    }
    c.ch.write(c.out);
    if (!c.out.hasRemaining()) {
      // half-close, then read and discard what the client still sends (up to a second), so that a
      // request body left unread does not turn the close into a reset that loses the response
      c.ch.shutdownOutput();
      c.state = State.DRAINING;
      c.drainDeadline = System.nanoTime() + Math.min(limits.requestTimeout().toNanos(), 1_000_000_000L);
      c.key.interestOps(SelectionKey.OP_READ);
    }
  }

  private void drop(Conn c) {
    c.key.cancel();
    closeQuietly(c.ch);
    synchronized (open) {
      open.remove(c);
    }
  }

  private static void closeQuietly(SocketChannel ch) {
    try {
      ch.close();
    } catch (IOException ignored) {
      // nothing to do
    }
  }

  /** The end of the request head ({@code \r\n\r\n} or {@code \n\n}), exclusive of it, or -1. */
  static int headEnd(ByteBuffer in) {
    byte[] b = in.array();
    int n = in.position();
    for (int i = 0; i < n; i++) {
      if (b[i] == '\n') {
        if (i + 1 < n && b[i + 1] == '\n') {
          return i;
        }
        if (i + 2 < n && b[i + 1] == '\r' && b[i + 2] == '\n') {
          return i > 0 && b[i - 1] == '\r' ? i - 1 : i;
        }
      }
    }
    return -1;
  }

  private static int indexOf(ByteBuffer in, byte x) {
    byte[] b = in.array();
    for (int i = 0; i < in.position(); i++) {
      if (b[i] == x) {
        return i;
      }
    }
    return -1;
  }

  // ---------------------------------------------------------------------------------------------
  // routes

  private ByteBuffer handle(String method, String target, String authorization) {
    boolean head = method.equals("HEAD");
    if (token != null && !authorized(authorization)) {
      return response(401, "text/plain", "unauthorized: send Authorization: Bearer <token>\n", head,
          "WWW-Authenticate: Bearer\r\n");
    }
    String path = target;
    int q = path.indexOf('?');
    if (q >= 0) {
      path = path.substring(0, q);
    }
    if (path.startsWith("http://") || path.startsWith("https://")) { // absolute-form
      int slash = path.indexOf('/', path.indexOf("//") + 2);
      path = slash < 0 ? "/" : path.substring(slash);
    }
    if (!path.equals("/status") && !path.equals("/metrics") && !path.equals("/health")) {
      return response(404, "text/plain", "not found: try /status, /metrics or /health\n", head, null);
    }
    if (!method.equals("GET") && !head) {
      return response(405, "text/plain", "method not allowed\n", false, "Allow: GET, HEAD\r\n");
    }
    try {
      switch (path) {
        case "/status":
          return response(200, "application/json",
              AdminProcess.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(src.status()) + "\n", head, null);
        case "/metrics":
          return response(200, "text/plain; version=0.0.4; charset=utf-8", metrics.scrape(), head, null);
        default:
          String why = src.unhealthyReason();
          return response(why == null ? 200 : 503, "text/plain", why == null ? "ok\n" : why + "\n", head, null);
      }
    } catch (IOException e) {
      throw new IllegalStateException(e.toString(), e);
    }
  }

  private boolean authorized(String header) {
    if (header == null || !header.startsWith("Bearer ")) {
      return false;
    }
    byte[] given = header.substring(7).trim().getBytes(StandardCharsets.UTF_8);
    return MessageDigest.isEqual(given, token.getBytes(StandardCharsets.UTF_8));
  }

  private static String reason(int code) {
    return switch (code) {
      case 200 -> "OK";
      case 400 -> "Bad Request";
      case 401 -> "Unauthorized";
      case 404 -> "Not Found";
      case 405 -> "Method Not Allowed";
      case 408 -> "Request Timeout";
      case 414 -> "URI Too Long";
      case 431 -> "Request Header Fields Too Large";
      case 503 -> "Service Unavailable";
      default -> "Internal Server Error";
    };
  }

  static ByteBuffer response(int code, String type, String body, boolean head, String extraHeaders) {
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    String h = "HTTP/1.1 " + code + " " + reason(code) + "\r\n"
        + "Content-Type: " + type + "\r\n"
        + "Cache-Control: no-store\r\n"
        + "Content-Length: " + b.length + "\r\n"
        + "Connection: close\r\n"
        + (extraHeaders == null ? "" : extraHeaders)
        + "\r\n";
    byte[] hb = h.getBytes(StandardCharsets.ISO_8859_1);
    ByteBuffer out = ByteBuffer.allocate(hb.length + (head ? 0 : b.length));
    out.put(hb);
    if (!head) {
      out.put(b);
    }
    return out.flip();
  }

  @Override
  public void close() {
    closed = true;
    selector.wakeup();
    try {
      ioThread.join(5000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    handlers.shutdownNow();
    try {
      selector.close();
      server.close();
    } catch (IOException e) {
      log.warn("status port: close: {}", e.toString());
    }
  }

  @Override
  public String toString() {
    return "status port " + address.toString().toLowerCase(Locale.ROOT);
  }
}
