package io.logtail.demo;

import io.logtail.gen.LogGenerator;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;

/**
 * Stands in for nginx when it is not installed: appends a {@link LogGenerator}'s lines to a log at a
 * fixed rate, as nginx does (whole lines, one {@code write} per 10 ms slice, in {@code O_APPEND}
 * mode), until {@code total} lines are written or it is closed. Paced on {@code ticker} (nanoseconds).
 */
public final class LineWriter implements AutoCloseable {
  private static final long SLICE_NANOS = 10_000_000L;

  private final Path log;
  private final LogGenerator gen;
  private final long rate;
  private final long total;
  private final LongSupplier ticker;
  private final Thread thread;
  private volatile boolean stop;
  private volatile long written;
  private volatile IOException failure;

  public LineWriter(Path log, LogGenerator gen, long ratePerSecond, long total, LongSupplier ticker) {
    this.log = log;
    this.gen = gen;
    this.rate = ratePerSecond;
    this.total = total;
    this.ticker = ticker;
    this.thread = new Thread(this::run, "line-writer");
    this.thread.setDaemon(true);
  }

  public LineWriter start() {
    thread.start();
    return this;
  }

  private void run() {
    StringBuilder chunk = new StringBuilder(1 << 16);
    long t0 = ticker.getAsLong();
    try (OutputStream out = Files.newOutputStream(log, StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
      long n = 0;
      while (!stop && n < total) {
        long due = Math.min(total, (ticker.getAsLong() - t0) * rate / 1_000_000_000L);
        chunk.setLength(0);
        while (n < due) {
          synchronized (gen) {
            chunk.append(gen.nextLine());
          }
          n++;
        }
        if (chunk.length() > 0) {
          out.write(chunk.toString().getBytes(StandardCharsets.UTF_8));
          written = n;
        }
        LockSupport.parkNanos(SLICE_NANOS);
      }
    } catch (IOException e) {
      failure = e;
    }
  }

  /** Lines written so far. */
  public long written() {
    return written;
  }

  /** Whether it has written its lines (or stopped, or failed). */
  public boolean done() {
    return !thread.isAlive();
  }

  /** What the database must hold once the lines written are ingested: call after {@link #close()}. */
  public LogGenerator.Expected expected() {
    synchronized (gen) {
      return gen.expected();
    }
  }

  /** Stops writing and waits for the thread; rethrows a write failure. */
  @Override
  public void close() throws IOException, InterruptedException {
    stop = true;
    thread.join();
    if (failure != null) {
      throw failure;
    }
  }
}
