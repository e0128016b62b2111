package io.logtail.event;

import io.logtail.tail.Source;

/**
 * What each line became. For every line the tailer delivers, exactly one of these methods is called,
 * with the line's byte range {@code [start, end)} in its source, so that a consumer can advance the
 * source's offset on every call: nothing is dropped silently.
 *
 * <p>The event objects are reused by the caller: copy what you keep before returning.
 */
public interface EventSink {
  void vote(Source source, long start, long end, VoteEvent vote) throws InterruptedException;

  void canvass(Source source, long start, long end, CanvassEvent record) throws InterruptedException;

  /** {@code raw[off, off+len)} is the line (or its head for oversized lines), not yet cut to 2 KiB. */
  void reject(Source source, long start, long end, RejectReason reason, byte[] raw, int off, int len)
      throws InterruptedException;

  /** Ordinary site traffic (not under {@code /b/}): counted, not stored. */
  void skipped(Source source, long start, long end) throws InterruptedException;
}
