package io.logtail.parse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.logtail.event.RejectReason;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LogFormatTest {
  static final long T = Instant.parse("2026-11-23T08:00:29Z").getEpochSecond() * 1_000_000L;

  static String s(byte[] b, int off, int len) {
    return b == null ? null : new String(b, off, len, StandardCharsets.UTF_8);
  }

  static String method(ParsedLine p) { return s(p.methodBuf(), p.methodOff(), p.methodLen()); }
  static String path(ParsedLine p) { return s(p.pathBuf(), p.pathOff(), p.pathLen()); }
  static String query(ParsedLine p) { return p.hasQuery() ? s(p.queryBuf(), p.queryOff(), p.queryLen()) : null; }
  static String proto(ParsedLine p) { return s(p.protoBuf(), p.protoOff(), p.protoLen()); }

  static RejectReason parse(LogFormat f, String line, ParsedLine p) {
    byte[] b = ("xx" + line + "yy").getBytes(StandardCharsets.UTF_8);
    return f.parse(b, 2, b.length - 4, p);
  }

  @Test
  void combined() {
    ParsedLine p = new ParsedLine();
    String line = "203.0.113.7 - alice [23/Nov/2026:09:00:29 +0100] \"GET /b/vote.gif?ballot=a&choice=b HTTP/1.1\" 200 43 \"-\" \"Mozilla/5.0 \\x22quoted\\x22\"";
    assertNull(parse(LogFormat.COMBINED, line, p));
    assertEquals("GET", method(p));
    assertTrue(p.methodIs("GET"));
    assertFalse(p.methodIs("HEAD"));
    assertEquals("/b/vote.gif", path(p));
    assertFalse(p.pathDecoded());
    assertEquals("ballot=a&choice=b", query(p));
    assertEquals("HTTP/1.1", proto(p));
    assertEquals(200, p.status());
    assertEquals(T, p.timeMicros());
  }

  @Test
  void requestVariants() {
    ParsedLine p = new ParsedLine();
    String pre = "1.2.3.4 - - [23/Nov/2026:09:00:29 +0100] \"";
    String post = "\" 200 0 \"-\" \"-\"";
    assertNull(parse(LogFormat.COMBINED, pre + "GET /a" + post, p)); // HTTP/0.9 form
    assertEquals("/a", path(p));
    assertEquals("", proto(p) == null ? "" : proto(p));
    assertNull(query(p));
    assertNull(parse(LogFormat.COMBINED, pre + "GET /a? HTTP/1.0" + post, p));
    assertEquals("", query(p));
    assertNull(parse(LogFormat.COMBINED, pre + "GET https://h.example:8443/b/x?q=1 HTTP/2.0" + post, p));
    assertEquals("/b/x", path(p));
    assertEquals("q=1", query(p));
    assertNull(parse(LogFormat.COMBINED, pre + "GET /a b c HTTP/1.1" + post, p));
    assertEquals("/a b c", path(p));
    assertEquals(RejectReason.BAD_REQUEST_LINE, parse(LogFormat.COMBINED, pre + "-" + post, p));
    assertEquals(RejectReason.BAD_REQUEST_LINE, parse(LogFormat.COMBINED, pre + "GET " + post, p));
    assertEquals(RejectReason.BAD_REQUEST_LINE, parse(LogFormat.COMBINED, pre + " /a HTTP/1.1" + post, p));
    assertNull(parse(LogFormat.COMBINED, pre + "GET HTTP/1.1" + post, p)); // a target, not a protocol
    assertEquals("HTTP/1.1", path(p));
  }

  @Test
  void defaultEscapesAreDecoded() {
    ParsedLine p = new ParsedLine();
    String line = "1.2.3.4 - - [23/Nov/2026:09:00:29 +0100] \"GET /b/x?r=\\x22a\\x5Cb\\x0A\\xC3\\xa9 HTTP/1.1\" 200 0 \"-\" \"-\"";
    assertNull(parse(LogFormat.COMBINED, line, p));
    assertEquals("r=\"a\\b\n\u00e9", query(p));
    for (String bad : new String[] {"\\x2", "\\xZZ", "\\u0041", "\\\\"}) {
      String l = "1.2.3.4 - - [23/Nov/2026:09:00:29 +0100] \"GET /b/x?r=" + bad + " HTTP/1.1\" 200 0 \"-\" \"-\"";
      assertEquals(RejectReason.BAD_ESCAPE, parse(LogFormat.COMBINED, l, p), bad);
    }
  }

  @Test
  void escapeJson() {
    LogFormat f = LogFormat.compile("escape=json '{\"time\":\"$time_iso8601\",\"request\":\"$request\","
        + "\"status\":$status,\"ua\":\"$http_user_agent\"}';");
    assertEquals(LogFormat.Escape.JSON, f.escape());
    ParsedLine p = new ParsedLine();
    String line = "{\"time\":\"2026-11-23T09:00:29+01:00\",\"request\":\"GET /b/v?a=\\\"x\\\\\\\"&b=\\u00e9\\n\\ud83d\\ude00 HTTP/1.1\","
        + "\"status\":200,\"ua\":\"say \\\"hi\\\", ok\\\\\"}";
    assertNull(parse(f, line, p));
    assertEquals("/b/v", path(p));
    assertEquals("a=\"x\\\"&b=\u00e9\n\uD83D\uDE00", query(p));
    assertEquals(200, p.status());
    assertEquals(T, p.timeMicros());
    for (String bad : new String[] {"\\x41", "\\u00", "\\ud83d", "\\ude00", "\\uD83Dx", "\\q"}) {
      String l = "{\"time\":\"2026-11-23T09:00:29+01:00\",\"request\":\"GET /b/v?a=" + bad + " HTTP/1.1\","
          + "\"status\":200,\"ua\":\"-\"}";
      assertEquals(RejectReason.BAD_ESCAPE, parse(f, l, p), bad);
    }
  }

  @Test
  void customFormatWithMsecAndRequestUri() {
    LogFormat f = LogFormat.compile("'$msec $remote_addr $request_method $request_uri $status '\n"
        + "    '\"$http_user_agent\" rt=$request_time'");
    ParsedLine p = new ParsedLine();
    assertNull(parse(f, "1763888429.123 10.0.0.1 GET /b/vote.gif?ballot=x%20y 200 \"curl/8\" rt=0.000", p));
    assertEquals("GET", method(p));
    assertEquals("/b/vote.gif", path(p));
    assertEquals("ballot=x%20y", query(p));
    assertEquals(1763888429_123_000L, p.timeMicros());
    assertEquals(RejectReason.BAD_TIME, parse(f, "1763888429.1234567 10.0.0.1 GET / 200 \"-\" rt=0", p));
    assertEquals(RejectReason.BAD_TIME, parse(f, "-1.000 10.0.0.1 GET / 200 \"-\" rt=0", p));
    assertNull(parse(f, "1763888429 10.0.0.1 GET / 200 \"-\" rt=0", p));
    assertEquals(1763888429_000_000L, p.timeMicros());
  }

  @Test
  void uriAndArgs() {
    LogFormat f = LogFormat.compile("${time_local}|$request_method|$uri|$args|$status");
    ParsedLine p = new ParsedLine();
    assertNull(parse(f, "23/Nov/2026:09:00:29 +0100|GET|/b/vote.gif|ballot=a|204", p));
    assertTrue(p.pathDecoded());
    assertEquals("/b/vote.gif", path(p));
    assertEquals("ballot=a", query(p));
    assertEquals(204, p.status());
    assertNull(parse(f, "23/Nov/2026:09:00:29 +0100|GET|/b/vote.gif|-|204", p));
    assertNull(query(p));
  }

  @Test
  void timeIso8601AndCache() {
    LogFormat f = LogFormat.compile("$time_iso8601 \"$request\" $status");
    ParsedLine p = new ParsedLine();
    assertNull(parse(f, "2026-11-23T09:00:29+01:00 \"GET / HTTP/1.1\" 200", p));
    assertEquals(T, p.timeMicros());
    assertNull(parse(f, "2026-11-23T09:00:30+01:00 \"GET / HTTP/1.1\" 200", p)); // cached minute
    assertEquals(T + 1_000_000, p.timeMicros());
    assertNull(parse(f, "2026-11-23T09:00:30-01:00 \"GET / HTTP/1.1\" 200", p)); // tz differs
    assertEquals(T + 1_000_000 + 2 * 3600_000_000L, p.timeMicros());
    assertNull(parse(f, "2026-11-23T08:00:29Z \"GET / HTTP/1.1\" 200", p));
    assertEquals(T, p.timeMicros());
    assertNull(parse(f, "2024-02-29T00:00:00+00:00 \"GET / HTTP/1.1\" 200", p));
    assertEquals(Instant.parse("2024-02-29T00:00:00Z").getEpochSecond() * 1_000_000L, p.timeMicros());
    for (String bad : new String[] {"2026-02-29T00:00:00+00:00", "2026-13-01T00:00:00+00:00",
        "2026-11-23T09:00:60+01:00", "2026-11-23T09:00:29+0100", "2026-11-23 09:00:29+01:00",
        "2026-11-23T09:00:29+24:00", "1969-12-31T23:59:59+00:00"}) {
      assertEquals(RejectReason.BAD_TIME, parse(f, bad + " \"GET / HTTP/1.1\" 200", p), bad);
    }
  }

  @Test
  void timeLocalAcrossMinutesAndZones() {
    ParsedLine p = new ParsedLine();
    String[] times = {"23/Nov/2026:09:00:29 +0100", "23/Nov/2026:09:00:59 +0100", "23/Nov/2026:09:01:00 +0100",
        "01/Jan/2000:00:00:00 -0530", "29/Feb/2028:23:59:59 +1400", "31/Dec/1999:23:59:59 +0000"};
    String[] iso = {"2026-11-23T09:00:29+01:00", "2026-11-23T09:00:59+01:00", "2026-11-23T09:01:00+01:00",
        "2000-01-01T00:00:00-05:30", "2028-02-29T23:59:59+14:00", "1999-12-31T23:59:59+00:00"};
    for (int i = 0; i < times.length; i++) {
      String line = "1.2.3.4 - - [" + times[i] + "] \"GET / HTTP/1.1\" 200 0 \"-\" \"-\"";
      assertNull(parse(LogFormat.COMBINED, line, p), times[i]);
      long expected = java.time.OffsetDateTime.parse(iso[i]).toEpochSecond() * 1_000_000L;
      assertEquals(expected, p.timeMicros(), times[i]);
    }
    for (String bad : new String[] {"23/nov/2026:09:00:29 +0100", "23/Nov/2026:09:00:29 0100",
        "00/Nov/2026:09:00:29 +0100", "23/Nov/2026:09:60:29 +0100", "3/Nov/2026:09:00:29 +0100"}) {
      String line = "1.2.3.4 - - [" + bad + "] \"GET / HTTP/1.1\" 200 0 \"-\" \"-\"";
      assertEquals(RejectReason.BAD_TIME, parse(LogFormat.COMBINED, line, p), bad);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {
    "",
    "no variables",
    "$remote_addr $status $time_local", // no request
    "$request $time_local", // no status
    "$request $status", // no time
    "$request$status $msec", // adjacent variables
    "escape=xml $request $status $msec",
    "${request $status $msec",
    "$ $request $status $msec",
  })
  void badFormats(String text) {
    assertThrows(IllegalArgumentException.class, () -> LogFormat.compile(text));
  }

  @Test
  void quotedPiecesConcatenateLikeNginx() {
    LogFormat a = LogFormat.compile("'$remote_addr - $remote_user [$time_local] '\n  '\"$request\" $status "
        + "$body_bytes_sent ' '\"$http_referer\" \"$http_user_agent\"';");
    LogFormat b = LogFormat.compile("escape=default \"$remote_addr - $remote_user [$time_local] \\\"$request\\\" "
        + "$status $body_bytes_sent \\\"$http_referer\\\" \\\"$http_user_agent\\\"\"");
    ParsedLine p = new ParsedLine();
    String line = "1.2.3.4 - - [23/Nov/2026:09:00:29 +0100] \"GET /x HTTP/1.1\" 200 0 \"-\" \"-\"";
    assertNull(parse(a, line, p));
    assertEquals("/x", path(p));
    assertNull(parse(b, line, p));
    assertEquals("/x", path(p));
    assertEquals(LogFormat.COMBINED_TEXT, LogFormat.unquoteConfig("'" + LogFormat.COMBINED_TEXT + "'"));
    assertNull(LogFormat.unquoteConfig(LogFormat.COMBINED_TEXT));
  }

  @Test
  void malformedLines() {
    ParsedLine p = new ParsedLine();
    for (String bad : new String[] {"", "x", "1.2.3.4 - - [23/Nov/2026:09:00:29 +0100] \"GET / HTTP/1.1\" 200 0 \"-\"",
        "1.2.3.4 - - [23/Nov/2026:09:00:29 +0100] \"GET / HTTP/1.1\" 20 0 \"-\" \"-\"",
        "1.2.3.4 - - [23/Nov/2026:09:00:29 +0100] \"GET / HTTP/1.1\" 2000 0 \"-\" \"-\"",
        "1.2.3.4 - - [23/Nov/2026:09:00:29 +0100] \"GET / HTTP/1.1\" 099 0 \"-\" \"-\""}) {
      assertEquals(RejectReason.MALFORMED_LINE, parse(LogFormat.COMBINED, bad, p), bad);
    }
  }

  @Test
  void scratchGrowsForLongLines() {
    ParsedLine p = new ParsedLine();
    String q = "\\x41".repeat(5000);
    String line = "1.2.3.4 - - [23/Nov/2026:09:00:29 +0100] \"GET /b/x?" + q + " HTTP/1.1\" 200 0 \"-\" \"-\"";
    assertNull(parse(LogFormat.COMBINED, line, p));
    assertEquals("A".repeat(5000), query(p));
  }
}
