package io.logtail.parse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.logtail.event.RejectReason;

/**
 * Fuzzes the log-line parser with arbitrary lines under several formats. Seeds (raw line bytes, then
 * one byte choosing the format) live in src/test/resources/io/logtail/parse/LogFormatFuzzTestInputs/
 * parseLine/. Without JAZZER_FUZZ=1 this runs the seeds only (regression mode); {@code mvn verify}
 * fuzzes it for 30 s in its own surefire execution (see logtail-core/pom.xml).
 */
class LogFormatFuzzTest {
  static final LogFormat[] FORMATS = {
    LogFormat.COMBINED,
    LogFormat.compile("escape=json '{\"t\":\"$time_iso8601\",\"r\":\"$request\",\"s\":$status,\"ua\":\"$http_user_agent\"}'"),
    LogFormat.compile("'$msec $remote_addr $request_method $request_uri $status \"$http_user_agent\"'"),
    LogFormat.compile("escape=none $time_local|$request_method|$uri|$args|$status"),
  };

  private final ParsedLine parsed = new ParsedLine();

  @FuzzTest(maxDuration = "30s")
  void parseLine(FuzzedDataProvider data) {
    LogFormat f = FORMATS[data.consumeInt(0, FORMATS.length - 1)];
    byte[] raw = data.consumeRemainingAsBytes();
    // parse from the middle of a larger buffer, as the tailer does
    byte[] buf = new byte[raw.length + 16];
    System.arraycopy(raw, 0, buf, 7, raw.length);
    RejectReason r = f.parse(buf, 7, raw.length, parsed);
    if (r != null) {
      assertTrue(r == RejectReason.MALFORMED_LINE || r == RejectReason.BAD_ESCAPE
          || r == RejectReason.BAD_REQUEST_LINE || r == RejectReason.BAD_TIME, r.code());
      return;
    }
    ParsedLine p = parsed;
    assertTrue(p.status() >= 100 && p.status() <= 999);
    assertTrue(p.timeMicros() >= 0);
    assertNotNull(p.methodBuf());
    assertTrue(p.methodLen() >= 1 && p.methodLen() <= 32);
    for (int i = 0; i < p.methodLen(); i++) {
      byte c = p.methodBuf()[p.methodOff() + i];
      assertTrue((c >= 'A' && c <= 'Z') || c == '_' || c == '-');
    }
    assertNotNull(p.pathBuf());
    inBounds(p.pathBuf(), p.pathOff(), p.pathLen());
    if (p.hasQuery()) {
      inBounds(p.queryBuf(), p.queryOff(), p.queryLen());
      // query decoding never throws either
      QueryString q = new QueryString();
      int qr = q.parse(p.queryBuf(), p.queryOff(), p.queryLen());
      assertTrue(qr == QueryString.OK || qr == QueryString.BAD_PERCENT || qr == QueryString.TOO_MANY);
      if (qr == QueryString.OK) {
        assertTrue(q.count() <= QueryString.MAX_PARAMS);
        for (int i = 0; i < q.count(); i++) {
          inBounds(q.keyBuf(i), q.keyOff(i), q.keyLen(i));
          inBounds(q.valBuf(i), q.valOff(i), q.valLen(i));
        }
      }
    }
    if (p.protoBuf() != null) {
      inBounds(p.protoBuf(), p.protoOff(), p.protoLen());
    }
    // the decoded request never comes from outside the line or the scratch buffer
    assertTrue(p.methodBuf() == buf || p.methodBuf() == p.scratch);
    // parsing the same line again gives the same result (time cache is transparent)
    long t = p.timeMicros();
    assertEquals(null, f.parse(buf, 7, raw.length, new ParsedLine()));
    assertEquals(t, p.timeMicros());
  }

  private static void inBounds(byte[] b, int off, int len) {
    assertTrue(off >= 0 && len >= 0 && off + len <= b.length, "slice out of bounds");
  }
}
