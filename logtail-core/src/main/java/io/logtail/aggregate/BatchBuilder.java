package io.logtail.aggregate;

import io.logtail.event.CanvassEvent;
import io.logtail.event.EventSink;
import io.logtail.event.RejectReason;
import io.logtail.event.VoteEvent;
import io.logtail.tail.Source;
import io.logtail.util.Ticker;

/**
 * Turns events into batch rows, on the tailer's thread (the single writer of the filling batch).
 *
 * <p>Each call appends one line's outcome and extends its source's range; a batch is handed to the
 * flusher when it holds {@code maxLines} lines or {@code maxBytes} of row data, or when its first line
 * is older than the flush interval, or older than the linger time while the flusher is idle
 * ({@link #tick()}, called by the tailer loop after every pass). The linger rule is group commit: while
 * the flusher commits one batch the next one fills, and it is handed over as soon as the flusher is
 * free, so that a line waits about one commit rather than a whole flush interval, and batches grow by
 * themselves when commits get slower.
 * Rows are written straight into the batch's COPY buffers: no object per line.
 */
public final class BatchBuilder implements EventSink {
  /** Raw lines are stored cut to this many bytes. */
  public static final int RAW_LIMIT = 2048;
  /** Within a pass the linger rule is checked every this many lines (a power of two). */
  static final int LINGER_CHECK_LINES = 1024;

  private final BatchPool pool;
  private final Registry registry;
  private final int nodeId;
  private final int maxLines;
  private final long maxBytes;
  private final long flushIntervalNanos;
  private final long lingerNanos;
  private final Ticker ticker;
  private Batch current;
  /**
   * Line limit of the next batch: the first batches after start are small (maxLines/16, doubling up
   * to maxLines), so that the first commit does not wait for a whole batch to be parsed by a cold JVM
   * while the database idles; the pipeline fills sooner.
   */
  private int rampLines;

  /** A builder without the linger rule: batches are handed over at the flush interval (or when full). */
  public BatchBuilder(BatchPool pool, Registry registry, int nodeId, int maxLines, long maxBytes,
      long flushIntervalNanos, Ticker ticker) {
    this(pool, registry, nodeId, maxLines, maxBytes, flushIntervalNanos, flushIntervalNanos, ticker);
  }

  /**
   * @param lingerNanos a batch whose first line is this old is handed over as soon as the flusher is
   *     idle; at most {@code flushIntervalNanos} (equal: no early hand-over)
   */
  public BatchBuilder(BatchPool pool, Registry registry, int nodeId, int maxLines, long maxBytes,
      long flushIntervalNanos, long lingerNanos, Ticker ticker) {
    if (maxLines < 1 || maxBytes < 1024 || flushIntervalNanos < 0 || lingerNanos < 0
        || lingerNanos > flushIntervalNanos) {
      throw new IllegalArgumentException("bad batch limits: maxLines=" + maxLines + " maxBytes="
          + maxBytes + " flushIntervalNanos=" + flushIntervalNanos + " lingerNanos=" + lingerNanos);
    }
    this.lingerNanos = lingerNanos;
    this.pool = pool;
    this.registry = registry;
    this.nodeId = nodeId;
    this.maxLines = maxLines;
    this.maxBytes = maxBytes;
    this.flushIntervalNanos = flushIntervalNanos;
    this.ticker = ticker;
    this.rampLines = Math.max(1, maxLines / 16);
  }

  private Batch begin(Source source, long start, long end) throws InterruptedException {
    Batch b = current;
    if (b == null) {
      b = pool.takeFree();
      b.voteRaw = registry.referenceDataLoaded();
      b.firstLineNanos = ticker.nanos();
      current = b;
    }
    Batch.Range r = b.range(source);
    if (r == null) {
      r = b.addRange(source, registry.sourceId(source), start);
    } else if (r.end != start) {
      throw new IllegalStateException("gap or overlap in " + source + ": batch range ends at " + r.end
          + " but next line starts at " + start);
    }
    r.end = end;
    b.lines++;
    b.bytes += end - start;
    return b;
  }

  private void after(Batch b) throws InterruptedException {
    if (b.lines >= rampLines || b.votes.length() + b.canvass.length() + b.rejects.length() >= maxBytes) {
      handOff();
    } else if ((b.lines & (LINGER_CHECK_LINES - 1)) == 0 && lingerNanos < flushIntervalNanos
        && ticker.nanos() - b.firstLineNanos >= lingerNanos && pool.flusherIdle()) {
      // the linger rule within a long pass too (catching up a backlog, e.g. after a restart): the first
      // commit comes after a few thousand lines, not after a full batch
      handOff();
    }
  }

  @Override
  public void vote(Source source, long start, long end, VoteEvent v) throws InterruptedException {
    int ballotId = registry.ballotId(v.ballot);
    Batch b = begin(source, start, end);
    Batch.Range r = b.range(source);
    b.votes.row(b.voteRaw ? 9 : 8).int4(ballotId).bytes(v.voter, 0, 32).text(v.choice).text(v.eid)
        .timestampMicros(v.timeMicros).int2(nodeId).int4(r.sourceId).int8(start);
    if (b.voteRaw) {
      if (v.raw != null) {
        b.votes.bytes(v.raw, v.rawOff, Math.min(v.rawLen, RAW_LIMIT));
      } else {
        b.votes.nul();
      }
    }
    b.voteRows++;
    after(b);
  }

  @Override
  public void canvass(Source source, long start, long end, CanvassEvent c) throws InterruptedException {
    Batch b = begin(source, start, end);
    Batch.Range r = b.range(source);
    b.canvass.row(15).text(c.eid).text(c.kind.name()).text(c.dwelling).text(c.canvasser)
        .int4((int) c.latE7).int4((int) c.lonE7).int4(c.cellLat).int4(c.cellLon).text(c.issue)
        .text(c.stance == null ? null : c.stance.name()).text(c.request).timestampMicros(c.timeMicros)
        .int2(nodeId).int4(r.sourceId).int8(start);
    b.canvassRows++;
    after(b);
  }

  @Override
  public void reject(Source source, long start, long end, RejectReason reason, byte[] raw, int off,
      int len) throws InterruptedException {
    Batch b = begin(source, start, end);
    Batch.Range r = b.range(source);
    b.rejects.row(6).int2(nodeId).int4(r.sourceId).int8(start).text(reason.code())
        .bytes(raw, off, Math.min(len, RAW_LIMIT)).nul();
    b.rejectRows++;
    b.rejectsByReason[reason.ordinal()]++;
    after(b);
  }

  @Override
  public void skipped(Source source, long start, long end) throws InterruptedException {
    Batch b = begin(source, start, end);
    b.skipped++;
    after(b);
  }

  /**
   * Hands the filling batch over when it is older than the flush interval, or older than the linger
   * time and the flusher is idle.
   */
  public void tick() throws InterruptedException {
    Batch b = current;
    if (b == null || b.isEmpty()) {
      return;
    }
    long age = ticker.nanos() - b.firstLineNanos;
    if (age >= flushIntervalNanos || (age >= lingerNanos && pool.flusherIdle())) {
      handOff();
    }
  }

  /** Hands the filling batch over now, whatever its size (shutdown). */
  public void handOff() throws InterruptedException {
    Batch b = current;
    if (b == null || b.isEmpty()) {
      return;
    }
    b.votes.finish();
    b.canvass.finish();
    b.rejects.finish();
    current = null;
    rampLines = (int) Math.min(maxLines, rampLines * 2L);
    pool.submit(b);
  }
}
