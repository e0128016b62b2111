package io.logtail.aggregate;

import io.logtail.event.RejectReason;
import io.logtail.flush.CopyBuffer;
import io.logtail.tail.Source;
import java.util.ArrayList;
import java.util.List;

/**
 * The unit of delivery: the events of a run of lines, and the byte range of every source they came
 * from. Rows are held as ready-to-send binary COPY data (see {@link CopyBuffer}); a batch object and
 * its buffers are reused from one batch to the next ({@link BatchPool}).
 *
 * <p>Invariant: for every source, the lines of the batch cover exactly {@code [start, end)} of it,
 * without gap, and every line is counted once in {@link #lines} as one of vote, canvass, reject or
 * skipped.
 *
 * <p>Row layouts (must match {@code io.logtail.flush.BatchWriter}): the columns of the final tables,
 * in table order, so that the writer can COPY them straight into {@code votes} and
 * {@code canvass_records} (fast path) or into the staging tables (general path):
 * votes: ballot_id, voter, choice, eid, voted_at, node_id, source_id, line_offset, and a ninth field
 * raw only when {@link #voteRaw()}; canvass: eid, kind, dwelling, canvasser, lat_e7, lon_e7, cell_lat,
 * cell_lon, issue, stance, request, recorded_at, node_id, source_id, line_offset; rejects: node_id,
 * source_id, line_offset, reason, raw, logged_at. Rows are in log order within each buffer.
 */
public final class Batch {
  /**
   * One stream's contiguous byte range in this batch. A stream is its fingerprint: when it goes on in
   * another file within the batch (copytruncate: the tailer finds the rest of it in the copy, another
   * {@link Source} object of the same fingerprint), the range goes on too, and names the newest file.
   */
  public static final class Range {
    private Source source;
    public final int sourceId;
    public final long start;
    long end;

    Range(Source source, int sourceId, long start) {
      this.source = source;
      this.sourceId = sourceId;
      this.start = start;
      this.end = start;
    }

    /** The stream, at the file where the batch last read it. */
    public Source source() {
      return source;
    }

    public long end() {
      return end;
    }

    @Override
    public String toString() {
      return source.id() + "[" + start + "," + end + ")";
    }
  }

  final CopyBuffer votes;
  final CopyBuffer canvass;
  final CopyBuffer rejects;
  private final List<Range> rangeList = new ArrayList<>();
  private Range lastRange;   // the range of the last line: nearly every line is of the same Source as the one before
  final int[] rejectsByReason = new int[RejectReason.values().length];

  int lines;
  int voteRows;
  int canvassRows;
  int rejectRows;
  int skipped;
  long bytes;
  long firstLineNanos;
  /** Whether vote rows carry their raw line (needed when reference data can reject votes). */
  boolean voteRaw;
  long batchId;
  /** The flusher's per-batch state (its plan), kept with the batch object as it is reused. */
  private Object attachment;
  /** Counts the uses of this batch object (cleared for reuse): tells a fresh plan from a stale one. */
  private int generation;

  Batch(int initialBufferBytes) {
    votes = new CopyBuffer(initialBufferBytes);
    canvass = new CopyBuffer(initialBufferBytes);
    rejects = new CopyBuffer(initialBufferBytes / 4);
  }

  void clear(int trimTo) {
    votes.reset();
    canvass.reset();
    rejects.reset();
    votes.trimTo(trimTo);
    canvass.trimTo(trimTo);
    rejects.trimTo(trimTo);
    rangeList.clear();
    lastRange = null;
    java.util.Arrays.fill(rejectsByReason, 0);
    lines = voteRows = canvassRows = rejectRows = skipped = 0;
    bytes = 0;
    firstLineNanos = 0;
    batchId = 0;
    generation++;
  }

  public int generation() {
    return generation;
  }

  /** The range of the stream of {@code s} (by fingerprint), or null; it names {@code s} from now on. */
  Range range(Source s) {
    Range r = lastRange;
    if (r != null && r.source == s) {
      return r;
    }
    for (Range x : rangeList) {
      if (x.source.fingerprint() == s.fingerprint()) {
        x.source = s;
        lastRange = x;
        return x;
      }
    }
    return null;
  }

  Range addRange(Source s, int sourceId, long start) {
    Range r = new Range(s, sourceId, start);
    rangeList.add(r);
    lastRange = r;
    return r;
  }

  public boolean isEmpty() {
    return lines == 0;
  }

  public List<Range> ranges() {
    return rangeList;
  }

  public CopyBuffer voteRows() {
    return votes;
  }

  public CopyBuffer canvassRows() {
    return canvass;
  }

  public CopyBuffer rejectRows() {
    return rejects;
  }

  public int lines() {
    return lines;
  }

  public int votes() {
    return voteRows;
  }

  public int canvass() {
    return canvassRows;
  }

  public int rejects() {
    return rejectRows;
  }

  public int skipped() {
    return skipped;
  }

  public long bytes() {
    return bytes;
  }

  public long firstLineNanos() {
    return firstLineNanos;
  }

  public boolean voteRaw() {
    return voteRaw;
  }

  public int rejectsOf(RejectReason r) {
    return rejectsByReason[r.ordinal()];
  }

  public long batchId() {
    return batchId;
  }

  public Object attachment() {
    return attachment;
  }

  public void attach(Object o) {
    attachment = o;
  }

  public void assignBatchId(long id) {
    this.batchId = id;
  }

  @Override
  public String toString() {
    return "batch " + batchId + " lines=" + lines + " votes=" + voteRows + " canvass=" + canvassRows
        + " rejects=" + rejectRows + " skipped=" + skipped + " ranges=" + rangeList;
  }
}
