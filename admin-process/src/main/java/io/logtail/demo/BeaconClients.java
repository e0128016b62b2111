package io.logtail.demo;

import io.logtail.gen.LogGenerator;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;

/**
 * Concurrent clients firing beacons at nginx over HTTP/1.1: valid votes, re-sent votes, second votes
 * of a voter, canvass records and their re-sends, bad beacons, a POST, and ordinary site traffic.
 *
 * <p>Each client is one thread with one keep-alive connection and its own {@link LogGenerator} (its
 * own eid prefix and its own slice of the voters), and waits for each answer before the next
 * request. nginx handles one connection in one worker and logs a request before it reads the next
 * one on that connection, so a client's beacons are in the log in the order it sent them, and the
 * sum of the clients' {@link LogGenerator#expected() expectations} is exactly what the database must
 * hold once every line is ingested. A request counts in the expectation once it is generated; an
 * answer with another status than the one expected, or a failed request (whose line may or may not
 * be in the log), is counted in {@link #unexpected()} / {@link #errors()}, so that a checker knows the
 * expectation is not exact and says so.
 *
 * <p>Rate: {@code ratePerSecond} in all (0: as fast as the server answers), spread evenly over the
 * clients, paced on {@code ticker} (nanoseconds).
 */
public final class BeaconClients implements AutoCloseable {
  private final String host;
  private final int port;
  private final long ratePerSecond;
  private final long requestsPerClient;
  private final LongSupplier ticker;
  private final List<LogGenerator> generators = new ArrayList<>();
  private final List<Thread> threads = new ArrayList<>();
  private final AtomicBoolean stop = new AtomicBoolean();
  private final LongAdder sent = new LongAdder();
  private final LongAdder beacons = new LongAdder();
  private final LongAdder unexpected = new LongAdder();
  private final LongAdder errors = new LongAdder();
  private final ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();

  /**
   * @param mix the mix of each client; its {@code idPrefix} and voter slice are set per client
   * @param requestsPerClient requests each client sends before it stops (Long.MAX_VALUE: until {@link #close()})
   */
  public BeaconClients(String host, int port, int clients, long seed, LogGenerator.Mix mix, long ratePerSecond,
      long requestsPerClient, LongSupplier ticker) {
    if (clients < 1) {
      throw new IllegalArgumentException("clients must be at least 1; was " + clients);
    }
    this.host = host;
    this.port = port;
    this.ratePerSecond = ratePerSecond;
    this.requestsPerClient = requestsPerClient;
    this.ticker = ticker;
    for (int i = 0; i < clients; i++) {
      LogGenerator.Mix m = mix.copy();
      m.idPrefix = mix.idPrefix + "k" + i + "-";
      m.voterStride = clients;
      m.voterOffset = i;
      generators.add(new LogGenerator(seed * 1_000_003L + i, m));
    }
  }

  /** Starts the clients. */
  public BeaconClients start() {
    long t0 = ticker.getAsLong();
    for (int i = 0; i < generators.size(); i++) {
      LogGenerator g = generators.get(i);
      long intervalNanos = ratePerSecond <= 0 ? 0 : generators.size() * 1_000_000_000L / ratePerSecond;
      // clients start spread over one interval, so that the total rate is even
      long first = t0 + (intervalNanos * i) / generators.size();
      Thread t = new Thread(() -> runClient(g, first, intervalNanos), "beacon-client-" + i);
      t.setDaemon(true);
      threads.add(t);
      t.start();
    }
    return this;
  }

  private void runClient(LogGenerator gen, long first, long intervalNanos) {
    Connection conn = null;
    try {
      long next = first;
      for (long n = 0; n < requestsPerClient && !stop.get(); n++) {
        if (intervalNanos > 0) {
          long wait = next - ticker.getAsLong();
          if (wait > 0) {
            LockSupport.parkNanos(wait);
          }
          next += intervalNanos;
        }
        LogGenerator.Request r;
        synchronized (gen) {
          r = gen.nextRequest();
        }
        try {
          if (conn == null) {
            conn = new Connection(host, port);
          }
          int status = conn.send(r);
          sent.increment();
          if (r.logged()) {
            beacons.increment();
          }
          if (status != r.status()) {
            unexpected.increment();
            problem(r.method() + " " + r.target() + " answered " + status + ", expected " + r.status());
          }
          if (conn.closed) {
            conn.close();
            conn = null;
          }
        } catch (IOException e) {
          errors.increment();
          problem(r.method() + " " + r.target() + " failed: " + e);
          if (conn != null) {
            conn.close();
            conn = null;
          }
        }
      }
    } finally {
      if (conn != null) {
        conn.close();
      }
    }
  }

  private void problem(String p) {
    if (problems.size() < 20) {
      problems.add(p);
    }
  }

  /** Waits until every client has sent its requests (or was stopped). */
  public void awaitDone() throws InterruptedException {
    for (Thread t : threads) {
      t.join();
    }
  }

  /** Whether every client has finished (sent its requests, or was stopped). */
  public boolean done() {
    return threads.stream().noneMatch(Thread::isAlive);
  }

  /** Requests answered so far. */
  public long sent() {
    return sent.sum();
  }

  /** Of those, requests under /b/ (lines of the beacon log). */
  public long beacons() {
    return beacons.sum();
  }

  /** Requests answered with another status than expected. */
  public long unexpected() {
    return unexpected.sum();
  }

  /** Requests that failed (no answer): their lines may or may not be in the log. */
  public long errors() {
    return errors.sum();
  }

  /** The first problems seen (at most 20). */
  public List<String> problems() {
    return List.copyOf(problems);
  }

  /** What the database must hold once every request sent so far is ingested: call after {@link #awaitDone()}. */
  public LogGenerator.Expected expected() {
    LogGenerator.Expected all = new LogGenerator.Expected();
    for (LogGenerator g : generators) {
      synchronized (g) {
        all.add(g.expected());
      }
    }
    return all;
  }

  @Override
  public void close() throws InterruptedException {
    stop.set(true);
    awaitDone();
  }

  /** One keep-alive HTTP/1.1 connection: request, then read the status line, headers and body. */
  private static final class Connection {
    private final Socket socket;
    private final OutputStream out;
    private final InputStream in;
    private final StringBuilder line = new StringBuilder(128);
    boolean closed;

    Connection(String host, int port) throws IOException {
      socket = new Socket();
      socket.setTcpNoDelay(true);
      socket.setSoTimeout(30_000);
      socket.connect(new InetSocketAddress(host, port), 5_000);
      out = socket.getOutputStream();
      in = new BufferedInputStream(socket.getInputStream(), 4096);
    }

    int send(LogGenerator.Request r) throws IOException {
      String req = r.method() + " " + r.target() + " HTTP/1.1\r\nHost: beacons.example.org\r\nUser-Agent: "
          + r.userAgent() + "\r\n" + ("GET".equals(r.method()) ? "" : "Content-Length: 0\r\n") + "\r\n";
      out.write(req.getBytes(StandardCharsets.US_ASCII));
      out.flush();
      String statusLine = readLine();
      if (!statusLine.startsWith("HTTP/1.1 ") || statusLine.length() < 12) {
        throw new IOException("bad status line: " + statusLine);
      }
      int status = Integer.parseInt(statusLine.substring(9, 12));
      long length = -1;
      boolean chunked = false;
      for (String h = readLine(); !h.isEmpty(); h = readLine()) {
        int colon = h.indexOf(':');
        if (colon < 0) {
          continue;
        }
        String name = h.substring(0, colon).trim();
        String value = h.substring(colon + 1).trim();
        if (name.equalsIgnoreCase("Content-Length")) {
          length = Long.parseLong(value);
        } else if (name.equalsIgnoreCase("Connection") && value.equalsIgnoreCase("close")) {
          closed = true;
        } else if (name.equalsIgnoreCase("Transfer-Encoding") && value.equalsIgnoreCase("chunked")) {
          chunked = true;
        }
      }
      if (chunked) {
        for (long size = Long.parseLong(readLine().trim(), 16); size > 0; size = Long.parseLong(readLine().trim(), 16)) {
          skip(size);
          readLine();
        }
        readLine();
      } else if (length >= 0) {
        skip(length);
      } else {
        closed = true;   // body until close: not used by nginx for these answers
      }
      return status;
    }

    private void skip(long n) throws IOException {
      while (n > 0) {
        long k = in.skip(n);
        if (k <= 0) {
          if (in.read() < 0) {
            throw new IOException("connection closed in a response body");
          }
          k = 1;
        }
        n -= k;
      }
    }

    private String readLine() throws IOException {
      line.setLength(0);
      while (true) {
        int b = in.read();
        if (b < 0) {
          throw new IOException("connection closed by the server");
        }
        if (b == '\n') {
          int n = line.length();
          if (n > 0 && line.charAt(n - 1) == '\r') {
            line.setLength(n - 1);
          }
          return line.toString();
        }
        line.append((char) b);
      }
    }

    void close() {
      try {
        socket.close();
      } catch (IOException ignored) {
        // closing a socket we are done with; nothing to do
      }
    }
  }
}
