package io.logtail.cli;

import io.logtail.gen.LogGenerator;
import io.logtail.util.Ticker;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;

/**
 * Appends generated lines to a log at a fixed rate, on a thread of its own, the way nginx does: every
 * {@code chunkNanos} it writes the lines that are due by then (rate × elapsed time, whole lines) with
 * one {@code write} call to a file opened for appending. It records, per chunk, the end offset and the
 * wall-clock time (microseconds) right after the write returned, and per line its length, in primitive
 * arrays, so that latencies can be computed after the run without any work while it runs.
 *
 * <p>Time is injected: {@code ticker} paces, {@code wallMicros} stamps (it must be the same clock the
 * worker stamps its commits with: {@code System.currentTimeMillis()} in production).
 */
final class PacedAppender implements Runnable {
  private final Path log;
  private final LogGenerator gen;
  private final long rate;
  private final long chunkNanos;
  private final Ticker ticker;
  private final LongSupplier wallMicros;
  private volatile boolean stop;
  private volatile IOException failure;
  private volatile long linesWritten; // for progress while it runs
  private Thread thread;

  // written only by the appender thread; read after join()
  private long startOffset;
  private long endOffset;
  private long[] chunkEnd = new long[1024];
  private long[] chunkMicros = new long[1024];
  private int chunks;
  private int[] lineLen = new int[1 << 16];
  private long lines;
  private long maxLagNanos;
  private long startNanos;
  private long stopNanos;

  PacedAppender(Path log, LogGenerator gen, long rate, long chunkNanos, Ticker ticker, LongSupplier wallMicros) {
    if (rate < 1 || chunkNanos < 1) {
      throw new IllegalArgumentException("rate and chunk interval must be positive");
    }
    this.log = log;
    this.gen = gen;
    this.rate = rate;
    this.chunkNanos = chunkNanos;
    this.ticker = ticker;
    this.wallMicros = wallMicros;
  }

  void start() {
    thread = new Thread(this, "bench-appender");
    thread.setDaemon(true);
    thread.start();
  }

  /** Stops appending (after the chunk being written) and waits for the thread; rethrows its failure. */
  void stopAndJoin() throws IOException, InterruptedException {
    stop = true;
    LockSupport.unpark(thread);
    thread.join();
    if (failure != null) {
      throw failure;
    }
  }

  @Override
  public void run() {
    StringBuilder sb = new StringBuilder(64 * 1024);
    try (FileChannel ch = FileChannel.open(log, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.APPEND)) {
      startOffset = ch.size();
      endOffset = startOffset;
      ByteBuffer buf = ByteBuffer.allocate(1 << 20);
      startNanos = ticker.nanos();
      long next = startNanos;
      while (!stop) {
        long now = ticker.nanos();
        if (now < next) {
          LockSupport.parkNanos(next - now);
          continue;
        }
        maxLagNanos = Math.max(maxLagNanos, now - next);
        long due = (long) ((now - startNanos) / 1e9 * rate) - lines;
        if (due > 0) {
          sb.setLength(0);
          for (long i = 0; i < due; i++) {
            int before = sb.length();
            sb.append(gen.nextLine());
            addLine(sb.length() - before); // ASCII: chars are bytes
          }
          byte[] bytes = sb.toString().getBytes(StandardCharsets.UTF_8);
          if (bytes.length != sb.length()) {
            throw new IOException("the generator made a non-ASCII line; line lengths would be wrong");
          }
          if (bytes.length > buf.capacity()) {
            buf = ByteBuffer.allocate(bytes.length);
          }
          buf.clear();
          buf.put(bytes).flip();
          while (buf.hasRemaining()) {
            ch.write(buf); // one write(2) for the chunk, as nginx does for a buffer of lines
          }
          endOffset += bytes.length;
          addChunk(endOffset, wallMicros.getAsLong());
          linesWritten = lines;
        }
        next += chunkNanos;
        if (next < now) {
          next = now; // fell behind (a stall): the next pass catches up with one larger chunk
        }
      }
    } catch (IOException e) {
      failure = e;
    } finally {
      stopNanos = ticker.nanos();
    }
  }

  /** Lines written so far (safe to call while it runs). */
  long linesWritten() {
    return linesWritten;
  }

  private void addLine(int len) {
    if (lines == lineLen.length) {
      lineLen = Arrays.copyOf(lineLen, lineLen.length * 2);
    }
    lineLen[(int) lines++] = len;
  }

  private void addChunk(long end, long micros) {
    if (chunks == chunkEnd.length) {
      chunkEnd = Arrays.copyOf(chunkEnd, chunks * 2);
      chunkMicros = Arrays.copyOf(chunkMicros, chunks * 2);
    }
    chunkEnd[chunks] = end;
    chunkMicros[chunks] = micros;
    chunks++;
  }

  /** What was written: read after {@link #stopAndJoin()}. */
  Written written() {
    return new Written(startOffset, endOffset, Arrays.copyOf(chunkEnd, chunks), Arrays.copyOf(chunkMicros, chunks),
        Arrays.copyOf(lineLen, (int) lines), (stopNanos - startNanos) / 1e9, maxLagNanos / 1e6);
  }

  /**
   * Lines appended between {@code startOffset} and {@code endOffset}: chunk {@code i} ends at
   * {@code chunkEnd[i]} and was written at {@code chunkMicros[i]}; line {@code j} is {@code lineLen[j]}
   * bytes with its newline.
   */
  record Written(long startOffset, long endOffset, long[] chunkEnd, long[] chunkMicros, int[] lineLen,
      double seconds, double maxLagMillis) {
    long lines() {
      return lineLen.length;
    }
  }
}
