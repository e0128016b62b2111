package io.logtail.tail;

/**
 * Receives what the tailer reads, in file order per source, on the tailer's thread.
 * Implementations may block (backpressure): the tailer then simply stops reading.
 *
 * <p>Every byte the tailer consumes is reported through exactly one call: each {@code \n}-terminated
 * line through {@link #line} or {@link #oversizedLine}, so that consecutive calls for one source cover
 * its bytes without gap or overlap ({@code startOffset} of a call equals {@code endOffset} of the
 * previous call for that source, or the resume offset).
 */
public interface LineSink {
  /**
   * A complete line. {@code buf[off, off+len)} is the line without its terminating {@code \n};
   * it is only valid during the call. {@code endOffset} is just past the {@code \n}.
   */
  void line(Source source, byte[] buf, int off, int len, long startOffset, long endOffset)
      throws InterruptedException;

  /**
   * A line longer than the configured limit: its bytes were skipped, not buffered.
   * {@code head[0, headLen)} holds its first bytes (at most 2 KiB) for the rejection record.
   */
  void oversizedLine(Source source, byte[] head, int headLen, long startOffset, long endOffset)
      throws InterruptedException;

  /**
   * The file of a source shrank below what was read (copytruncate). Reading restarts at 0 under a new
   * source; {@code bytesAtRisk} counts bytes that were in the file but not yet read when it was
   * truncated, and may have been lost to the race (unless a copy of the file is also tailed).
   */
  default void truncated(Source source, long readOffset, long bytesAtRisk) {}

  /** The tailer has read everything currently available: a natural point to flush a batch. */
  default void caughtUp() throws InterruptedException {}
}
