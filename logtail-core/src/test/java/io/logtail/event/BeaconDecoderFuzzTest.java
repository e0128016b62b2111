package io.logtail.event;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.logtail.parse.LogFormat;
import io.logtail.tail.Source;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * Fuzzes the whole line path (parse + beacon decode) through {@link LineProcessor}: the fuzzer owns
 * the request target of a {@code combined} line (plus the method and status), so that it reaches the
 * beacon decoder quickly. Asserts: no exception, exactly one sink call per line with its offsets, no
 * internal error, and the invariants of the events. Seeds (target bytes, then a status byte and a
 * method byte) live in src/test/resources/io/logtail/event/BeaconDecoderFuzzTestInputs/decodeLine/.
 */
class BeaconDecoderFuzzTest {
  static final Pattern ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");
  static final Pattern EID = Pattern.compile("[A-Za-z0-9._:-]{1,64}");
  static final String[] METHODS = {"GET", "HEAD", "POST", "get"};
  static final int[] STATUSES = {200, 204, 304, 404, 301, 500};
  static final Source SRC = new Source(7, 1, 1, Path.of("/var/log/nginx/access.log"), false);

  static final class CheckingSink implements EventSink {
    int calls;
    long start;
    long end;

    private void call(long s, long e) {
      calls++;
      assertEquals(start, s);
      assertEquals(end, e);
    }

    @Override
    public void vote(Source source, long s, long e, VoteEvent v) {
      call(s, e);
      assertEquals(32, v.voter.length);
      assertTrue(ID.matcher(v.ballot).matches(), v.ballot);
      assertTrue(ID.matcher(v.choice).matches(), v.choice);
      assertTrue(v.eid == null || EID.matcher(v.eid).matches(), v.eid);
      assertTrue(v.timeMicros > 0);
    }

    @Override
    public void canvass(Source source, long s, long e, CanvassEvent c) {
      call(s, e);
      assertNotNull(c.kind);
      assertTrue(ID.matcher(c.dwelling).matches());
      assertTrue(ID.matcher(c.canvasser).matches());
      assertTrue(EID.matcher(c.eid).matches());
      assertTrue(c.latE7 >= -900_000_000L && c.latE7 <= 900_000_000L, "lat " + c.latE7);
      assertTrue(c.lonE7 >= -1_800_000_000L && c.lonE7 <= 1_800_000_000L, "lon " + c.lonE7);
      assertEquals(Math.floorDiv(c.latE7, 10_000L), c.cellLat, "cell consistent with latE7");
      assertEquals(Math.floorDiv(c.lonE7, 10_000L), c.cellLon, "cell consistent with lonE7");
      switch (c.kind) {
        case intention:
          assertTrue(ID.matcher(c.issue).matches());
          assertNotNull(c.stance);
          assertNull(c.request);
          break;
        case followup:
          assertNull(c.issue);
          assertNull(c.stance);
          int n = c.request.codePointCount(0, c.request.length());
          assertTrue(n >= 1 && n <= 500);
          c.request.codePoints().forEach(cp -> assertTrue(cp >= 0x20 && !(cp >= 0x7f && cp <= 0x9f)));
          // valid UTF-8 round trip
          assertEquals(c.request, new String(c.request.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8));
          break;
        default:
          assertNull(c.issue);
          assertNull(c.stance);
          assertNull(c.request);
      }
    }

    @Override
    public void reject(Source source, long s, long e, RejectReason reason, byte[] raw, int off, int len) {
      call(s, e);
      assertNotNull(reason);
      assertTrue(off >= 0 && len >= 0 && off + len <= raw.length);
    }

    @Override
    public void skipped(Source source, long s, long e) {
      call(s, e);
    }
  }

  private final CheckingSink sink = new CheckingSink();
  private final LineProcessor processor = new LineProcessor(LogFormat.COMBINED, sink);
  private long offset;

  @FuzzTest(maxDuration = "30s")
  void decodeLine(FuzzedDataProvider data) throws InterruptedException {
    int status = STATUSES[data.consumeInt(0, STATUSES.length - 1)];
    String method = METHODS[data.consumeInt(0, METHODS.length - 1)];
    byte[] target = data.consumeRemainingAsBytes();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes("203.0.113.9 - - [23/Nov/2026:09:00:29 +0100] \"".getBytes(StandardCharsets.US_ASCII));
    out.writeBytes(method.getBytes(StandardCharsets.US_ASCII));
    out.write(' ');
    out.writeBytes(target);
    out.writeBytes((" HTTP/1.1\" " + status + " 43 \"-\" \"BallotBox/3.2\"").getBytes(StandardCharsets.US_ASCII));
    byte[] line = out.toByteArray();
    sink.calls = 0;
    sink.start = offset;
    sink.end = offset + line.length + 1;
    processor.line(SRC, line, 0, line.length, sink.start, sink.end);
    offset = sink.end;
    assertEquals(1, sink.calls, "exactly one sink call per line");
    assertEquals(0, processor.internalErrors(), "internal error (see log)");
  }
}
