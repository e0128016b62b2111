package io.logtail.cli;

import java.util.Arrays;

/**
 * Write-to-commit latency of every appended line, computed after the run from what the appender
 * recorded (when each chunk of lines was written) and what the binlog recorded (up to which offset each
 * batch committed, and when). A line is committed by the first batch whose range ends at or after the
 * line's end; its latency is that batch's commit time minus the write time of the chunk holding it.
 *
 * @param sortedMicros latencies of the committed lines, ascending
 * @param uncommitted  appended lines that no batch covers
 * @param overOneSecond committed lines whose latency exceeded one second
 */
record Latencies(long[] sortedMicros, long uncommitted, long overOneSecond) {

  /**
   * @param w            what the appender wrote
   * @param commitEnd    end offset (exclusive) of each committed range of the log, ascending
   * @param commitMicros commit time of each of those ranges, wall-clock microseconds
   */
  static Latencies of(PacedAppender.Written w, long[] commitEnd, long[] commitMicros) {
    int n = w.lineLen().length;
    long[] out = new long[n];
    int k = 0;
    long uncommitted = 0;
    long over = 0;
    long off = w.startOffset();
    int c = 0;
    int b = 0;
    for (int j = 0; j < n; j++) {
      off += w.lineLen()[j];
      while (w.chunkEnd()[c] < off) {
        c++;
      }
      while (b < commitEnd.length && commitEnd[b] < off) {
        b++;
      }
      if (b == commitEnd.length) {
        uncommitted++;
        continue;
      }
      long lat = commitMicros[b] - w.chunkMicros()[c];
      if (lat > 1_000_000) {
        over++;
      }
      out[k++] = lat;
    }
    long[] sorted = Arrays.copyOf(out, k);
    Arrays.sort(sorted);
    return new Latencies(sorted, uncommitted, over);
  }

  long committed() {
    return sortedMicros.length;
  }

  /** Nearest-rank percentile in milliseconds ({@code q} in (0, 1]); NaN when no line committed. */
  double percentileMillis(double q) {
    if (sortedMicros.length == 0) {
      return Double.NaN;
    }
    int rank = (int) Math.ceil(q * sortedMicros.length);
    return sortedMicros[Math.max(0, Math.min(sortedMicros.length, rank) - 1)] / 1000.0;
  }

  double maxMillis() {
    return sortedMicros.length == 0 ? Double.NaN : sortedMicros[sortedMicros.length - 1] / 1000.0;
  }

  double minMillis() {
    return sortedMicros.length == 0 ? Double.NaN : sortedMicros[0] / 1000.0;
  }
}
