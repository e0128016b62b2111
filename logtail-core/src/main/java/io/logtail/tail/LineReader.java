package io.logtail.tail;

import java.io.IOException;

/**
 * Cuts the content of one stream into lines and hands them to the sink, reading by exact offset into
 * the tailer's one reused buffer.
 *
 * <p>Nothing of a partial line is kept between passes: the stream remembers the offset after the
 * last {@code \n} delivered and the next pass reads again from there, so memory does not depend on
 * the number of sources. A line that grows past {@code maxLineBytes} before its {@code \n} is
 * scanned over without being kept (skip mode, with only its first 2 KiB held for the report) and
 * reported through {@link LineSink#oversizedLine} once its {@code \n} is on disk. The stream's
 * offset moves only after the sink returned, so a sink that throws or is interrupted gets the same
 * line again next time rather than losing it.
 */
final class LineReader {
  private final byte[] buf;
  private final byte[] headScratch = new byte[TailerConfig.OVERSIZED_HEAD_BYTES];
  private final int maxLineBytes;
  private final LineSink sink;

  LineReader(int bufferBytes, int maxLineBytes, LineSink sink) {
    this.buf = new byte[bufferBytes];
    this.maxLineBytes = maxLineBytes;
    this.sink = sink;
  }

  /** The reused buffer, also lent for fingerprinting and gzip checks between drains. */
  byte[] buffer() {
    return buf;
  }

  /**
   * Reads {@code s} from its scan position until the end of {@code in} or until about {@code budget}
   * bytes were scanned. Returns true when the end of the available content was reached.
   */
  boolean drain(TrackedStream s, ContentInput in, long budget)
      throws IOException, InterruptedException {
    long scanned = 0;
    while (scanned < budget) {
      if (s.skipping) {
        int n = in.read(s.skipPos, buf, 0, buf.length);
        checkSameContent(in);
        int nl = indexOfNewline(buf, 0, n);
        s.extendHead(buf, 0, nl < 0 ? n : nl);
        if (nl < 0) {
          s.skipPos += n;
          scanned += n;
          if (n < buf.length) return true;
          continue;
        }
        long end = s.skipPos + nl + 1;
        sink.oversizedLine(s.source, s.head, s.headLen, s.skipStart, end);
        s.readOffset = end;
        s.endSkip();
        scanned += nl + 1;
        continue;
      }
      long base = s.readOffset;
      int n = in.read(base, buf, 0, buf.length);
      checkSameContent(in);
      int lineStart = 0;
      int nl;
      while ((nl = indexOfNewline(buf, lineStart, n)) >= 0) {
        int len = nl - lineStart;
        long start = base + lineStart;
        long end = base + nl + 1;
        if (len > maxLineBytes) {
          int h = Math.min(len, headScratch.length);
          System.arraycopy(buf, lineStart, headScratch, 0, h);
          sink.oversizedLine(s.source, headScratch, h, start, end);
        } else {
          sink.line(s.source, buf, lineStart, len, start, end);
        }
        s.readOffset = end;
        lineStart = nl + 1;
      }
      scanned += lineStart;
      int rest = n - lineStart;
      if (rest > maxLineBytes) {
        // No \n yet and already too long: skip over it from here on, keeping only its head.
        s.startSkip(base + lineStart, buf, lineStart, rest, base + n);
        scanned += rest;
      }
      if (n < buf.length) return true; // end of content; a partial line stays on disk for later
      // The buffer was full: read on from the start of the partial line (or the skip position).
      // Since buf.length > maxLineBytes, each round either delivers a line or enters skip mode.
    }
    return false;
  }

  /**
   * The bytes just read are delivered only when the file still starts with the stream's first line
   * afterwards: a copytruncate between the tailer's last check and this read, followed by new writes,
   * would otherwise hand new content at the old offset to the old stream. The next pass sees the
   * changed first line and ends the stream (its rest is read from the copy, when the globs match it).
   */
  private static void checkSameContent(ContentInput in) throws IOException {
    if (!in.stillSameContent()) {
      throw new Tailer.FileReplacedException(in + " was truncated and written again while being read");
    }
  }

  private static int indexOfNewline(byte[] b, int from, int to) {
    for (int i = from; i < to; i++) {
      if (b[i] == '\n') return i;
    }
    return -1;
  }
}
