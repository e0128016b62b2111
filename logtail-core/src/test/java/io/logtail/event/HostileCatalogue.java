package io.logtail.event;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The hostile input catalogue, {@code src/test/resources/hostile/catalogue.tsv}: bad (and
 * surprising but valid) log lines and beacons, each with its expected outcome. The file's header
 * describes the format. Used by {@link HostileCatalogueTest} (line processor) and by
 * {@code io.logtail.worker.HostileInputIT} (worker into PostgreSQL).
 */
public final class HostileCatalogue {
  public static final String RESOURCE = "/hostile/catalogue.tsv";
  /** The combined-format line around a request line; {@code %s} is the request. */
  static final String LINE_PREFIX = "203.0.113.7 - - [23/Nov/2026:09:00:29 +0100] \"";
  static final String LINE_SUFFIX = "\" 200 43 \"https://example.org/\" \"Mozilla/5.0 (X11; Linux x86_64)\"";
  /** The marker file the shell payloads of the catalogue try to create. */
  public static final String PWNED = "/tmp/logtail-hostile-pwned";

  /**
   * One case. {@code expect} is a reject reason code, or {@code vote}, {@code canvass}, {@code skipped};
   * {@code stored} maps field names to the value that must be stored (null for SQL NULL).
   */
  public record Case(int ordinal, String name, String expect, byte[] line, Map<String, String> stored) {
    public boolean accepted() {
      return expect.equals("vote") || expect.equals("canvass");
    }

    public RejectReason reason() {
      return accepted() || expect.equals("skipped") ? null : RejectReason.fromCode(expect);
    }

    @Override
    public String toString() {
      return name;
    }
  }

  private HostileCatalogue() {}

  private static List<Case> cases;

  public static synchronized List<Case> cases() {
    if (cases == null) {
      cases = Collections.unmodifiableList(load());
    }
    return cases;
  }

  private static List<Case> load() {
    String text;
    try (InputStream in = HostileCatalogue.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(RESOURCE + " not on the classpath");
      }
      text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    List<Case> out = new ArrayList<>();
    int lineNo = 0;
    for (String row : text.split("\n", -1)) {
      lineNo++;
      if (row.isEmpty() || row.startsWith("#")) {
        continue;
      }
      String[] f = row.split("\t", -1);
      if (f.length < 4) {
        throw new IllegalArgumentException(RESOURCE + ":" + lineNo + ": fewer than 4 columns");
      }
      int ordinal = out.size() + 1;
      byte[] body = expand(f[3], ordinal);
      byte[] line = switch (f[2]) {
        case "get" -> concat(bytes(LINE_PREFIX + "GET "), body, bytes(" HTTP/1.1" + LINE_SUFFIX));
        case "req" -> concat(bytes(LINE_PREFIX), body, bytes(LINE_SUFFIX));
        case "line" -> body;
        default -> throw new IllegalArgumentException(RESOURCE + ":" + lineNo + ": unknown form " + f[2]);
      };
      Map<String, String> stored = new LinkedHashMap<>();
      for (int i = 4; i < f.length; i++) {
        int eq = f[i].indexOf('=');
        if (eq < 1) {
          throw new IllegalArgumentException(RESOURCE + ":" + lineNo + ": stored value is not field=value: " + f[i]);
        }
        String v = f[i].substring(eq + 1);
        stored.put(f[i].substring(0, eq),
            v.equals("\\N") ? null : new String(expand(v, ordinal), StandardCharsets.UTF_8));
      }
      out.add(new Case(ordinal, f[0], f[1], line, stored));
    }
    return out;
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      o.writeBytes(p);
    }
    return o.toByteArray();
  }

  /** The 64 hex digits of {@code {{voter}}} for a case: distinct per case. */
  public static String voterHex(int ordinal) {
    return String.format("%064x", 0x5eed0000L + ordinal);
  }

  /** Expands {{xHH}}, {{N*s}}, {{voter}}, {{eid}}; everything else is literal UTF-8. */
  static byte[] expand(String s, int ordinal) {
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    int i = 0;
    while (i < s.length()) {
      int open = s.indexOf("{{", i);
      if (open < 0) {
        o.writeBytes(bytes(s.substring(i)));
        break;
      }
      o.writeBytes(bytes(s.substring(i, open)));
      int close = s.indexOf("}}", open + 2);
      if (close < 0) {
        throw new IllegalArgumentException("unclosed {{ in " + s);
      }
      String m = s.substring(open + 2, close);
      int star = m.indexOf('*');
      if (m.equals("voter")) {
        o.writeBytes(bytes(voterHex(ordinal)));
      } else if (m.equals("eid")) {
        o.writeBytes(bytes("hostile:" + ordinal));
      } else if (m.length() == 3 && m.charAt(0) == 'x') {
        o.write(Integer.parseInt(m.substring(1), 16));
      } else if (star > 0) {
        byte[] unit = bytes(m.substring(star + 1));
        for (int n = Integer.parseInt(m.substring(0, star)); n > 0; n--) {
          o.writeBytes(unit);
        }
      } else {
        throw new IllegalArgumentException("unknown macro {{" + m + "}} in " + s);
      }
      i = close + 2;
    }
    return o.toByteArray();
  }

  /** A line of {@code size} bytes (no newline): a vote whose query is padded with an unknown parameter. */
  public static byte[] hugeLine(int size) {
    byte[] head = bytes(LINE_PREFIX + "GET /b/vote.gif?ballot=b&choice=c&voter=" + voterHex(0) + "&pad=");
    byte[] tail = bytes(" HTTP/1.1" + LINE_SUFFIX);
    byte[] b = new byte[size];
    System.arraycopy(head, 0, b, 0, head.length);
    java.util.Arrays.fill(b, head.length, size - tail.length, (byte) 'A');
    System.arraycopy(tail, 0, b, size - tail.length, tail.length);
    return b;
  }
}
