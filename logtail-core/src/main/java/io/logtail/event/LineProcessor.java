package io.logtail.event;

import io.logtail.parse.LogFormat;
import io.logtail.parse.ParsedLine;
import io.logtail.tail.LineSink;
import io.logtail.tail.Source;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The tailer's {@link LineSink}: parses each line with a {@link LogFormat}, decodes it with a
 * {@link BeaconDecoder}, and makes exactly one {@link EventSink} call per line (vote, canvass, reject
 * or skipped) with the line's byte range. Oversized lines are rejected as {@code line_too_long}.
 *
 * <p>One instance per tailer thread (it reuses its buffers and events). It never throws on input:
 * an unexpected internal error while parsing a line (a bug) is logged, counted in
 * {@link #internalErrors()}, and the line rejected as {@code malformed_line}, so that the line's
 * offset still advances exactly once.
 */
public final class LineProcessor implements LineSink {
  private static final Logger log = LoggerFactory.getLogger(LineProcessor.class);

  private final LogFormat format;
  private final EventSink sink;
  private final ParsedLine parsed = new ParsedLine();
  private final BeaconDecoder decoder = new BeaconDecoder();
  private long internalErrors;

  public LineProcessor(LogFormat format, EventSink sink) {
    this.format = java.util.Objects.requireNonNull(format, "format");
    this.sink = java.util.Objects.requireNonNull(sink, "sink");
  }

  public LogFormat format() { return format; }

  /** Lines that hit an unexpected exception in parse/decode (should stay 0). */
  public long internalErrors() { return internalErrors; }

  @Override
  public void line(Source source, byte[] buf, int off, int len, long startOffset, long endOffset)
      throws InterruptedException {
    RejectReason r;
    BeaconDecoder.Outcome o;
    try {
      r = format.parse(buf, off, len, parsed);
      o = r == null ? decoder.decode(parsed) : BeaconDecoder.Outcome.REJECT;
      if (r == null && o == BeaconDecoder.Outcome.REJECT) {
        r = decoder.reason();
      }
    } catch (RuntimeException e) {
      internalErrors++;
      log.error("internal error parsing line at {} [{}, {}); rejected as malformed_line",
          source, startOffset, endOffset, e);
      r = RejectReason.MALFORMED_LINE;
      o = BeaconDecoder.Outcome.REJECT;
    }
    switch (o) {
      case VOTE:
        VoteEvent v = decoder.vote();
        v.raw = buf;
        v.rawOff = off;
        v.rawLen = len;
        sink.vote(source, startOffset, endOffset, v);
        v.raw = null;
        break;
      case CANVASS:
        sink.canvass(source, startOffset, endOffset, decoder.canvass());
        break;
      case SKIPPED:
        sink.skipped(source, startOffset, endOffset);
        break;
      default:
        sink.reject(source, startOffset, endOffset, r, buf, off, len);
        break;
    }
  }

  @Override
  public void oversizedLine(Source source, byte[] head, int headLen, long startOffset, long endOffset)
      throws InterruptedException {
    sink.reject(source, startOffset, endOffset, RejectReason.LINE_TOO_LONG, head, 0, headLen);
  }
}
