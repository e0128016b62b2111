package io.logtail.tail;

import java.util.ArrayList;
import java.util.List;

/**
 * What the tailer knows of one stream (one fingerprint) in this process: how far it was delivered,
 * the oversized line it may be skipping over, and the open files that hold its content. Usually that
 * is one file; during a copytruncate or a compression it can be two or three (the live file, its copy,
 * the {@code .gz}), and then the stream is read from exactly one of them at a time, the "active" one,
 * always from {@link #readOffset}: that is how no (fingerprint, offset) range is delivered twice.
 */
final class TrackedStream {
  final Source source;
  /** Offset just past the last byte reported to the sink: every line before it was delivered. */
  long readOffset;

  // Skip mode: the line starting at skipStart is longer than the limit; scanning goes on at skipPos.
  boolean skipping;
  long skipStart;
  long skipPos;
  byte[] head; // at most TailerConfig.OVERSIZED_HEAD_BYTES, only while skipping
  int headLen;

  final List<TrackedFile> files = new ArrayList<>(2);
  TrackedFile active;

  TrackedStream(Source source, long readOffset) {
    this.source = source;
    this.readOffset = readOffset;
  }

  /** Where reading goes on: the start of the next line, or the scan position inside a long line. */
  long scanPosition() {
    return skipping ? skipPos : readOffset;
  }

  void startSkip(long lineStart, byte[] buf, int off, int len, long scannedTo) {
    skipping = true;
    skipStart = lineStart;
    skipPos = scannedTo;
    head = new byte[TailerConfig.OVERSIZED_HEAD_BYTES];
    headLen = 0;
    extendHead(buf, off, len);
  }

  /** While the head is not full, the bytes scanned so far are all in it: append the next ones. */
  void extendHead(byte[] buf, int off, int len) {
    int k = Math.min(len, head.length - headLen);
    System.arraycopy(buf, off, head, headLen, k);
    headLen += k;
  }

  void endSkip() {
    skipping = false;
    head = null;
    headLen = 0;
  }

  int heldBytes() {
    return head == null ? 0 : head.length;
  }
}
