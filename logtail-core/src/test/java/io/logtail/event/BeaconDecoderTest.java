package io.logtail.event;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.logtail.parse.LogFormat;
import io.logtail.tail.Source;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

class BeaconDecoderTest {
  static final Source SRC = new Source(1, 1, 1, Path.of("/var/log/nginx/access.log"), false);
  static final String V = "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF";
  static final String VOTE = "/b/vote.gif?ballot=2026-mayor&choice=alice&voter=" + V;
  static final String CANV = "/b/canvass.gif?kind=visit&dwelling=D-17&canvasser=u42&lat=52.5200066&lon=13.404954&eid=e1";

  /** A combined-format line with the given request line and status. */
  static String line(String request, int status) {
    return "203.0.113.7 - - [23/Nov/2026:09:00:29 +0100] \"" + request + "\" " + status
        + " 43 \"https://example.org/\" \"Mozilla/5.0 (X11; Linux x86_64)\"";
  }

  static String get(String target) {
    return line("GET " + target + " HTTP/1.1", 200);
  }

  static final Set<RejectReason> SEEN = EnumSet.noneOf(RejectReason.class);

  static RecordingSink run(String line) {
    return run(line.getBytes(StandardCharsets.ISO_8859_1));
  }

  static RecordingSink run(byte[] bytes) {
    RecordingSink sink = new RecordingSink();
    LineProcessor p = new LineProcessor(LogFormat.COMBINED, sink);
    // surround the line with other bytes: offsets must be honoured
    byte[] buf = new byte[bytes.length + 10];
    System.arraycopy(bytes, 0, buf, 5, bytes.length);
    try {
      p.line(SRC, buf, 5, bytes.length, 1000, 1000 + bytes.length + 1);
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
    assertEquals(1, sink.calls.size(), "exactly one sink call");
    assertEquals(1000, sink.lastStart);
    assertEquals(1000 + bytes.length + 1, sink.lastEnd);
    assertEquals(0, p.internalErrors());
    SEEN.addAll(sink.reasons);
    return sink;
  }

  static Stream<Arguments> table() {
    List<Arguments> t = new ArrayList<>();
    // accepted
    t.add(Arguments.of(get(VOTE), "vote"));
    t.add(Arguments.of(get(VOTE + "&eid=abc:1.2_3-4"), "vote"));
    t.add(Arguments.of(get(VOTE + "&utm_source=x&x=&&y"), "vote"));
    t.add(Arguments.of(line("GET " + VOTE + " HTTP/1.1", 204), "vote"));
    t.add(Arguments.of(line("GET " + VOTE + " HTTP/1.1", 304), "vote"));
    t.add(Arguments.of(get("/b/vote.gif?%62allot=x&choice=y&voter=" + V), "vote"));
    t.add(Arguments.of(get("/b/vote%2Egif?ballot=x&choice=y&voter=" + V), "vote"));
    t.add(Arguments.of(get(CANV), "canvass"));
    t.add(Arguments.of(get("/b/canvass.gif?kind=intention&dwelling=d&canvasser=u&lat=0&lon=0&eid=e&issue=rent&stance=undecided"), "canvass"));
    t.add(Arguments.of(get("/b/canvass.gif?kind=followup&dwelling=d&canvasser=u&lat=-1&lon=%2B1&eid=e&request=call+me+%E2%82%AC+%27%3B+DROP+TABLE+x%3B--"), "canvass"));
    t.add(Arguments.of(line("GET http://example.org" + VOTE + " HTTP/1.1", 200), "vote"));
    // not beacons
    t.add(Arguments.of(get("/"), "skipped"));
    t.add(Arguments.of(get("/index.html?b=/b/vote.gif"), "skipped"));
    t.add(Arguments.of(get("/bb/vote.gif"), "skipped"));
    t.add(Arguments.of(line("POST /login HTTP/1.1", 403), "skipped"));
    t.add(Arguments.of(get("/x%zz"), "skipped"));
    // whole line
    t.add(Arguments.of("garbage", "malformed_line"));
    t.add(Arguments.of("", "malformed_line"));
    t.add(Arguments.of(line("GET " + VOTE + " HTTP/1.1", 200).replace(" 200 ", " 2x0 "), "malformed_line"));
    t.add(Arguments.of(line("GET " + VOTE + " HTTP/1.1", 200) + " trailing", "malformed_line"));
    t.add(Arguments.of(line("-", 400), "bad_request_line"));
    t.add(Arguments.of(line("\\x16\\x03\\x01\\x02\\x00\\x01\\x00\\x01\\xFC\\x03\\x03", 400), "bad_request_line"));
    t.add(Arguments.of(line("GET", 400), "bad_request_line"));
    t.add(Arguments.of(line("GET /b/vote.gif?ballot=\\x5", 200), "bad_escape"));
    t.add(Arguments.of(line("GET /b/vote.gif?ballot=\\q41", 200), "bad_escape"));
    t.add(Arguments.of(get(VOTE).replace("23/Nov/2026", "31/Nov/2026"), "bad_time"));
    t.add(Arguments.of(get(VOTE).replace("+0100", "+01x0"), "bad_time"));
    t.add(Arguments.of(get(VOTE).replace("09:00:29", "24:00:29"), "bad_time"));
    t.add(Arguments.of(get("/b/vote.gif?ballot=%4"), "bad_percent_encoding"));
    t.add(Arguments.of(get("/b/vote.gif?ballot=a&x=%G1"), "bad_percent_encoding"));
    t.add(Arguments.of(get("/b/vo%te.gif"), "bad_percent_encoding"));
    t.add(Arguments.of(line("POST " + VOTE + " HTTP/1.1", 200), "method_not_get"));
    t.add(Arguments.of(line("HEAD " + VOTE + " HTTP/1.1", 200), "method_not_get"));
    t.add(Arguments.of(line("get " + VOTE + " HTTP/1.1", 200), "bad_request_line"));
    t.add(Arguments.of(line("GET " + VOTE + " HTTP/1.1", 404), "bad_status"));
    t.add(Arguments.of(line("GET " + VOTE + " HTTP/1.1", 301), "bad_status"));
    t.add(Arguments.of(line("GET " + VOTE + " HTTP/1.1", 500), "bad_status"));
    t.add(Arguments.of(get("/b/"), "unknown_beacon"));
    t.add(Arguments.of(get("/b/vote.png?ballot=x"), "unknown_beacon"));
    t.add(Arguments.of(get("/b/" + "x".repeat(10)), "unknown_beacon"));
    t.add(Arguments.of(get(VOTE + "&p=1".repeat(61)), "vote")); // 64 params
    t.add(Arguments.of(get(VOTE + "&p=1".repeat(61) + "&&&"), "vote"));
    t.add(Arguments.of(get(VOTE + "&p=1".repeat(61) + "&q"), "too_many_params"));
    t.add(Arguments.of(get(VOTE + "&ballot=again"), "repeated_param"));
    t.add(Arguments.of(get(VOTE + "&eid=1&eid=2"), "repeated_param"));
    t.add(Arguments.of(get(CANV + "&lat=1"), "repeated_param"));
    t.add(Arguments.of(get(CANV + "&ballot=1&ballot=2"), "canvass")); // not a canvass param
    // vote fields
    t.add(Arguments.of(get("/b/vote.gif"), "missing_ballot"));
    t.add(Arguments.of(get("/b/vote.gif?choice=c&voter=" + V), "missing_ballot"));
    t.add(Arguments.of(get("/b/vote.gif?ballot=&choice=c&voter=" + V), "bad_ballot"));
    t.add(Arguments.of(get("/b/vote.gif?ballot&choice=c&voter=" + V), "bad_ballot"));
    t.add(Arguments.of(get("/b/vote.gif?ballot=a+b&choice=c&voter=" + V), "bad_ballot"));
    t.add(Arguments.of(get("/b/vote.gif?ballot=" + "a".repeat(65) + "&choice=c&voter=" + V), "bad_ballot"));
    t.add(Arguments.of(get("/b/vote.gif?ballot=" + "a".repeat(64) + "&choice=c&voter=" + V), "vote"));
    t.add(Arguments.of(get("/b/vote.gif?ballot=%27%20OR%201=1--&choice=c&voter=" + V), "bad_ballot"));
    t.add(Arguments.of(get("/b/vote.gif?ballot=b&voter=" + V), "missing_choice"));
    t.add(Arguments.of(get("/b/vote.gif?ballot=b&choice=%C3%A9&voter=" + V), "bad_choice"));
    t.add(Arguments.of(get("/b/vote.gif?ballot=b&choice=c"), "missing_voter"));
    t.add(Arguments.of(get("/b/vote.gif?ballot=b&choice=c&voter=" + V.substring(1)), "bad_voter"));
    t.add(Arguments.of(get("/b/vote.gif?ballot=b&choice=c&voter=" + V.substring(1) + "g"), "bad_voter"));
    t.add(Arguments.of(get(VOTE + "&eid="), "bad_eid"));
    t.add(Arguments.of(get(VOTE + "&eid=a/b"), "bad_eid"));
    // canvass fields
    String c = "/b/canvass.gif?";
    t.add(Arguments.of(get(c + "dwelling=d&canvasser=u&lat=1&lon=1&eid=e"), "missing_kind"));
    t.add(Arguments.of(get(c + "kind=Visit&dwelling=d&canvasser=u&lat=1&lon=1&eid=e"), "bad_kind"));
    t.add(Arguments.of(get(c + "kind=visit&canvasser=u&lat=1&lon=1&eid=e"), "missing_dwelling"));
    t.add(Arguments.of(get(c + "kind=visit&dwelling=d%00&canvasser=u&lat=1&lon=1&eid=e"), "bad_dwelling"));
    t.add(Arguments.of(get(c + "kind=visit&dwelling=d&lat=1&lon=1&eid=e"), "missing_canvasser"));
    t.add(Arguments.of(get(c + "kind=visit&dwelling=d&canvasser=%FF&lat=1&lon=1&eid=e"), "bad_canvasser"));
    t.add(Arguments.of(get(c + "kind=visit&dwelling=d&canvasser=u&lon=1&eid=e"), "missing_lat"));
    for (String bad : new String[] {"90.0000001", "-90.00000000001", "1e3", "NaN", "Infinity", "1.", ".5", "--1", "0x10", "", "1,5", "99999999999999999999999999999"}) {
      t.add(Arguments.of(get(c + "kind=visit&dwelling=d&canvasser=u&lat=" + bad + "&lon=1&eid=e"), "bad_lat"));
    }
    t.add(Arguments.of(get(c + "kind=visit&dwelling=d&canvasser=u&lat=1&eid=e"), "missing_lon"));
    t.add(Arguments.of(get(c + "kind=visit&dwelling=d&canvasser=u&lat=1&lon=180.1&eid=e"), "bad_lon"));
    t.add(Arguments.of(get(c + "kind=visit&dwelling=d&canvasser=u&lat=1&lon=-180&eid=e"), "canvass"));
    t.add(Arguments.of(get(c + "kind=visit&dwelling=d&canvasser=u&lat=1&lon=1"), "missing_eid"));
    t.add(Arguments.of(get(c + "kind=visit&dwelling=d&canvasser=u&lat=1&lon=1&eid=" + "e".repeat(65)), "bad_eid"));
    String ci = c + "kind=intention&dwelling=d&canvasser=u&lat=1&lon=1&eid=e";
    t.add(Arguments.of(get(ci + "&stance=yes"), "missing_issue"));
    t.add(Arguments.of(get(ci + "&issue=a%20b&stance=yes"), "bad_issue"));
    t.add(Arguments.of(get(ci + "&issue=rent"), "missing_stance"));
    t.add(Arguments.of(get(ci + "&issue=rent&stance=maybe"), "bad_stance"));
    String cf = c + "kind=followup&dwelling=d&canvasser=u&lat=1&lon=1&eid=e";
    t.add(Arguments.of(get(cf), "missing_request"));
    t.add(Arguments.of(get(cf + "&request="), "bad_request"));
    t.add(Arguments.of(get(cf + "&request=a%0Ab"), "bad_request"));
    t.add(Arguments.of(get(cf + "&request=%C2%85"), "bad_request")); // C1 control NEL
    t.add(Arguments.of(get(cf + "&request=%FF%FE"), "bad_request"));
    t.add(Arguments.of(get(cf + "&request=%C0%AF"), "bad_request")); // overlong
    t.add(Arguments.of(get(cf + "&request=%ED%A0%80"), "bad_request")); // surrogate
    t.add(Arguments.of(get(cf + "&request=" + "%E2%82%AC".repeat(500)), "canvass"));
    t.add(Arguments.of(get(cf + "&request=" + "%E2%82%AC".repeat(501)), "bad_request"));
    return t.stream();
  }

  @ParameterizedTest(name = "[{index}] {1}: {0}")
  @MethodSource("table")
  void outcomeTable(String line, String expected) {
    assertEquals(expected, run(line).last());
  }

  @AfterAll
  static void everyLineLevelAndFieldReasonIsCovered() {
    // the reasons this package can produce; the unknown_* ones are decided by the database
    Set<RejectReason> expected = EnumSet.allOf(RejectReason.class);
    expected.removeAll(EnumSet.of(RejectReason.UNKNOWN_VOTER, RejectReason.UNKNOWN_BALLOT,
        RejectReason.UNKNOWN_CHOICE, RejectReason.LINE_TOO_LONG)); // line_too_long: own test
    Set<RejectReason> missing = EnumSet.copyOf(expected);
    missing.removeAll(SEEN);
    if (!SEEN.isEmpty()) { // only meaningful when the whole table ran
      assertTrue(missing.isEmpty(), "reject reasons without a table row: " + missing);
    }
  }

  @Test
  void voteFields() {
    RecordingSink s = run(get(VOTE + "&eid=ev-1"));
    VoteEvent v = (VoteEvent) s.lastEvent();
    assertEquals("2026-mayor", v.ballot);
    assertEquals("alice", v.choice);
    assertEquals("ev-1", v.eid);
    byte[] expected = new byte[32];
    for (int i = 0; i < 16; i++) {
      expected[i] = (byte) (i * 0x11);
      expected[16 + i] = (byte) (i * 0x11);
    }
    assertArrayEquals(expected, v.voter);
    // 2026-11-23T08:00:29Z
    assertEquals(java.time.Instant.parse("2026-11-23T08:00:29Z").toEpochMilli() * 1000, v.timeMicros);
  }

  @Test
  void voteWithoutEidHasNullEid() {
    RecordingSink s = new RecordingSink();
    LineProcessor p = new LineProcessor(LogFormat.COMBINED, s);
    byte[] a = get(VOTE + "&eid=x").getBytes(StandardCharsets.US_ASCII);
    byte[] b = get(VOTE).getBytes(StandardCharsets.US_ASCII);
    try {
      p.line(SRC, a, 0, a.length, 0, a.length + 1);
      p.line(SRC, b, 0, b.length, a.length + 1, a.length + b.length + 2);
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
    assertNull(((VoteEvent) s.lastEvent()).eid);
  }

  @Test
  void ballotAndChoiceAreInterned() {
    VoteEvent a = (VoteEvent) run(get(VOTE)).lastEvent();
    RecordingSink s = new RecordingSink();
    LineProcessor p = new LineProcessor(LogFormat.COMBINED, s);
    byte[] l = get(VOTE).getBytes(StandardCharsets.US_ASCII);
    try {
      p.line(SRC, l, 0, l.length, 0, 1);
      p.line(SRC, l, 0, l.length, 1, 2);
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
    VoteEvent x = (VoteEvent) s.events.get(0);
    VoteEvent y = (VoteEvent) s.events.get(1);
    assertTrue(x.ballot == y.ballot && x.choice == y.choice, "same String instances");
    assertEquals(a.ballot, x.ballot);
  }

  @Test
  void canvassFields() {
    CanvassEvent e = (CanvassEvent) run(get(
        "/b/canvass.gif?kind=followup&dwelling=D-17&canvasser=u42&lat=-33.8688&lon=151.2093&eid=e:1"
            + "&request=Please+call+back+%27%3B+DROP+TABLE+votes%3B--+%E2%9C%93")).lastEvent();
    assertEquals(CanvassEvent.Kind.followup, e.kind);
    assertEquals("D-17", e.dwelling);
    assertEquals("u42", e.canvasser);
    assertEquals("e:1", e.eid);
    assertEquals(-338_688_000L, e.latE7);
    assertEquals(1_512_093_000L, e.lonE7);
    assertEquals(-33869, e.cellLat);
    assertEquals(151209, e.cellLon);
    assertEquals("Please call back '; DROP TABLE votes;-- \u2713", e.request);
    assertNull(e.issue);
    assertNull(e.stance);

    e = (CanvassEvent) run(get(
        "/b/canvass.gif?kind=intention&dwelling=d&canvasser=u&lat=1&lon=2&eid=e&issue=rent&stance=no&request=ignored"))
        .lastEvent();
    assertEquals(CanvassEvent.Kind.intention, e.kind);
    assertEquals("rent", e.issue);
    assertEquals(CanvassEvent.Stance.no, e.stance);
    assertNull(e.request);
  }

  @ParameterizedTest(name = "lat {0} -> {1} / {2}")
  @CsvSource({
    "0.29, 2900000, 290",
    "-0.29, -2900000, -290",
    "0, 0, 0",
    "-0, 0, 0",
    "-0.0000000, 0, 0",
    "+0.0001, 1000, 0",
    "-0.0001, -1000, -1",
    "-0.001, -10000, -1",
    "-0.0010000001, -10001, -2",
    "0.00000001, 0, 0",
    "-0.00000001, -1, -1",
    "90, 900000000, 90000",
    "-90, -900000000, -90000",
    "89.9999999999, 899999999, 89999",
    "-89.9999999999, -900000000, -90000",
    "52.5200066, 525200066, 52520",
    "-52.5200066, -525200066, -52521",
    "-52.52, -525200000, -52520",
    "-52.520, -525200000, -52520",
    "-52.5200000000000000000000001, -525200001, -52521",
    "1.0005, 10005000, 1000",
    "-1.0005, -10005000, -1001",
    "007.5, 75000000, 7500",
  })
  void exactCell(String lat, long e7, int cell) {
    CanvassEvent e = (CanvassEvent) run(get("/b/canvass.gif?kind=visit&dwelling=d&canvasser=u&lat="
        + lat.replace("+", "%2B") + "&lon=" + lat.replace("+", "%2B") + "&eid=e")).lastEvent();
    assertEquals(e7, e.latE7);
    assertEquals(cell, e.cellLat);
    assertEquals(e7, e.lonE7);
    assertEquals(cell, e.cellLon);
    assertEquals(Math.floorDiv(e.latE7, 10_000L), e.cellLat);
    // and the same as BigDecimal arithmetic
    java.math.BigDecimal d = new java.math.BigDecimal(lat);
    assertEquals(d.movePointRight(7).setScale(0, java.math.RoundingMode.FLOOR).longValueExact(), e.latE7);
    assertEquals(d.movePointRight(3).setScale(0, java.math.RoundingMode.FLOOR).intValueExact(), e.cellLat);
  }

  @Test
  void lonBoundaries() {
    CanvassEvent e = (CanvassEvent) run(get(
        "/b/canvass.gif?kind=visit&dwelling=d&canvasser=u&lat=-90&lon=-180.0000000&eid=e")).lastEvent();
    assertEquals(-1_800_000_000L, e.lonE7);
    assertEquals(-180_000, e.cellLon);
    e = (CanvassEvent) run(get(
        "/b/canvass.gif?kind=visit&dwelling=d&canvasser=u&lat=90&lon=179.9999999999&eid=e")).lastEvent();
    assertEquals(1_799_999_999L, e.lonE7);
    assertEquals(179_999, e.cellLon);
  }

  @Test
  void escapeJsonAndCustomFormatsThroughTheProcessor() throws InterruptedException {
    LogFormat json = LogFormat.compile("escape=json '{\"time\":\"$time_iso8601\",\"req\":\"$request\",'\n"
        + "  '\"status\":$status,\"ua\":\"$http_user_agent\"}';");
    RecordingSink s = new RecordingSink();
    LineProcessor p = new LineProcessor(json, s);
    String line = "{\"time\":\"2026-11-23T09:00:29+01:00\",\"req\":\"GET " + VOTE + "&eid=j\\u003a1 HTTP/1.1\","
        + "\"status\":200,\"ua\":\"ua \\\"quoted\\\" \\\\\"}";
    byte[] b = line.getBytes(StandardCharsets.UTF_8);
    p.line(SRC, b, 0, b.length, 0, b.length + 1);
    assertEquals("vote", s.last(), line);
    VoteEvent v = (VoteEvent) s.lastEvent();
    assertEquals("j:1", v.eid);
    assertEquals(java.time.Instant.parse("2026-11-23T08:00:29Z").toEpochMilli() * 1000, v.timeMicros);

    LogFormat custom = LogFormat.compile("$msec $request_method $request_uri $status");
    p = new LineProcessor(custom, s);
    b = ("1763888429.5 GET /b/canvass.gif?kind=visit&dwelling=d&canvasser=u&lat=-0.29&lon=0.29&eid=e 200")
        .getBytes(StandardCharsets.US_ASCII);
    p.line(SRC, b, 0, b.length, 0, b.length + 1);
    assertEquals("canvass", s.last());
    CanvassEvent c = (CanvassEvent) s.lastEvent();
    assertEquals(1763888429_500_000L, c.timeMicros);
    assertEquals(-290, c.cellLat);
    assertEquals(290, c.cellLon);
    b = "1763888429.5 HEAD /b/vote.gif 200".getBytes(StandardCharsets.US_ASCII);
    p.line(SRC, b, 0, b.length, 0, b.length + 1);
    assertEquals("method_not_get", s.last());
  }

  @Test
  void oversizedLineIsRejectedWithItsHead() throws InterruptedException {
    RecordingSink s = new RecordingSink();
    LineProcessor p = new LineProcessor(LogFormat.COMBINED, s);
    byte[] head = "203.0.113.7 - - [23/Nov/2026".getBytes(StandardCharsets.US_ASCII);
    p.oversizedLine(SRC, head, head.length, 10, 1_000_000);
    assertEquals(List.of("line_too_long"), s.calls);
    assertEquals(10, s.lastStart);
    assertEquals(1_000_000, s.lastEnd);
    SEEN.add(RejectReason.LINE_TOO_LONG);
  }

  @Test
  void garbageBytesNeverCrash() {
    java.util.Random r = new java.util.Random(42);
    String base = get(CANV);
    for (int n = 0; n < 20_000; n++) {
      byte[] b = base.getBytes(StandardCharsets.ISO_8859_1);
      int k = 1 + r.nextInt(4);
      for (int j = 0; j < k; j++) {
        b[r.nextInt(b.length)] = (byte) r.nextInt(256);
      }
      RecordingSink s = run(b);
      if (s.last().equals("canvass")) {
        CanvassEvent e = (CanvassEvent) s.lastEvent();
        assertEquals(Math.floorDiv(e.latE7, 10_000L), e.cellLat);
        assertEquals(Math.floorDiv(e.lonE7, 10_000L), e.cellLon);
      }
    }
  }

  @Test
  void nulAndInvalidUtf8InTheLine() {
    assertEquals("canvass", run(get(CANV.replace("eid=e1", "eid=e1&x=\u0000\u00ff\u00fe"))).last());
    assertEquals("bad_request", run(get(
        "/b/canvass.gif?kind=followup&dwelling=d&canvasser=u&lat=1&lon=1&eid=e&request=\u00ff")).last());
    assertEquals("canvass", run(get(
        "/b/canvass.gif?kind=followup&dwelling=d&canvasser=u&lat=1&lon=1&eid=e&request=\u00c3\u00a9")).last());
  }
}
