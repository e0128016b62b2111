package io.logtail.event;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.logtail.parse.LogFormat;
import io.logtail.tail.OffsetLookup;
import io.logtail.tail.Source;
import io.logtail.tail.Tailer;
import io.logtail.tail.TailerConfig;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every case of the hostile input catalogue through the line processor (parser and decoder): exactly
 * one outcome, the exact reject reason, the raw line handed on unchanged, accepted values verbatim.
 */
class HostileCatalogueTest {
  static final Source SRC = new Source(1, 1, 1, Path.of("/var/log/nginx/access.log"), false);

  static Stream<HostileCatalogue.Case> cases() {
    return HostileCatalogue.cases().stream();
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @MethodSource("cases")
  void outcome(HostileCatalogue.Case c) throws Exception {
    RecordingSink sink = new RecordingSink();
    LineProcessor p = new LineProcessor(LogFormat.COMBINED, sink);
    byte[] buf = new byte[c.line().length + 6];
    buf[0] = buf[1] = buf[2] = '"'; // bytes around the line must not matter
    System.arraycopy(c.line(), 0, buf, 3, c.line().length);
    buf[buf.length - 3] = '"';
    p.line(SRC, buf, 3, c.line().length, 500, 500 + c.line().length + 1);
    assertEquals(List.of(c.expect()), sink.calls, "outcome of " + c.name());
    assertEquals(0, p.internalErrors(), "internal errors");
    assertEquals(500, sink.lastStart);
    assertEquals(500 + c.line().length + 1, sink.lastEnd);
    Object ev = sink.lastEvent();
    if (c.reason() != null) {
      assertArrayEquals(c.line(), ((String) ev).getBytes(StandardCharsets.ISO_8859_1), "raw bytes of the reject");
    }
    for (Map.Entry<String, String> e : c.stored().entrySet()) {
      assertEquals(e.getValue(), field(ev, e.getKey()), c.name() + ": stored " + e.getKey());
    }
    if (ev instanceof VoteEvent v && c.stored().containsKey("ballot") && !c.name().equals("id-voter-upper-hex")) {
      assertEquals(HostileCatalogue.voterHex(c.ordinal()), HexFormat.of().formatHex(v.voter), "voter");
    }
  }

  /** The value of a stored field of an accepted event, as text (null for NULL). */
  static String field(Object ev, String name) {
    if (ev instanceof VoteEvent v) {
      return switch (name) {
        case "ballot" -> v.ballot;
        case "choice" -> v.choice;
        case "eid" -> v.eid;
        default -> throw new AssertionError("not a vote field: " + name);
      };
    }
    CanvassEvent r = (CanvassEvent) ev;
    return switch (name) {
      case "kind" -> r.kind.name();
      case "dwelling" -> r.dwelling;
      case "canvasser" -> r.canvasser;
      case "eid" -> r.eid;
      case "issue" -> r.issue;
      case "stance" -> r.stance == null ? null : r.stance.name();
      case "request" -> r.request;
      case "lat_e7" -> Long.toString(r.latE7);
      case "lon_e7" -> Long.toString(r.lonE7);
      case "cell_lat" -> Integer.toString(r.cellLat);
      case "cell_lon" -> Integer.toString(r.cellLon);
      default -> throw new AssertionError("not a canvass field: " + name);
    };
  }

  @Test
  void catalogueIsWellFormed() {
    List<HostileCatalogue.Case> all = HostileCatalogue.cases();
    assertTrue(all.size() >= 250, "cases: " + all.size());
    Set<String> names = new HashSet<>();
    Set<String> eids = new HashSet<>();
    Set<String> voters = new HashSet<>();
    for (HostileCatalogue.Case c : all) {
      assertTrue(names.add(c.name()), "duplicate name " + c.name());
      for (byte b : c.line()) {
        assertTrue(b != '\n', c.name() + ": a case is one line");
      }
      if (!c.accepted() && !c.expect().equals("skipped")) {
        assertNotNull(c.reason()); // throws on an unknown code
      }
      if (!c.accepted() && !c.stored().isEmpty()) {
        fail(c.name() + ": stored values on a case that is not accepted");
      }
    }
    // accepted events must be distinct, so that the IT finds each one stored (no duplicate, no re-send)
    for (HostileCatalogue.Case c : all) {
      RecordingSink s = new RecordingSink();
      try {
        new LineProcessor(LogFormat.COMBINED, s).line(SRC, c.line(), 0, c.line().length, 0, 1);
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
      if (s.lastEvent() instanceof CanvassEvent r) {
        assertTrue(eids.add(r.eid), c.name() + ": canvass eid used twice: " + r.eid);
      } else if (s.lastEvent() instanceof VoteEvent v) {
        assertTrue(voters.add(v.ballot + "/" + HexFormat.of().formatHex(v.voter)), c.name() + ": vote twice");
      }
    }
  }

  /** The 10 MB line through the tailer and line processor: line_too_long with its first 2 KiB, neighbours intact. */
  @Test
  void tenMegabyteLineIsLineTooLong(@TempDir Path dir) throws Exception {
    byte[] huge = HostileCatalogue.hugeLine(10 * 1024 * 1024);
    byte[] before = HostileCatalogue.cases().get(0).line();
    Path log = dir.resolve("access.log");
    try (OutputStream o = Files.newOutputStream(log)) {
      o.write(before);
      o.write('\n');
      o.write(huge);
      o.write('\n');
      o.write(before);
      o.write('\n');
    }
    RecordingSink sink = new RecordingSink();
    LineProcessor p = new LineProcessor(LogFormat.COMBINED, sink);
    try (Tailer t = new Tailer(new TailerConfig().addLog(log.toString()).setMaxLineBytes(65536), p, OffsetLookup.NONE)) {
      for (int i = 0; i < 1000 && sink.calls.size() < 3; i++) {
        t.pollOnce();
      }
    }
    assertEquals(List.of("vote", "line_too_long", "vote"), sink.calls);
    byte[] head = ((String) sink.events.get(1)).getBytes(StandardCharsets.ISO_8859_1);
    assertArrayEquals(java.util.Arrays.copyOf(huge, TailerConfig.OVERSIZED_HEAD_BYTES), head);
  }
}
