package io.logtail.publish;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Renders the published files (the contract is docs/results.md). Each file is a <em>header</em>
 * ({@code schema}, {@code seq}, {@code updated_at}, {@code batches}: what changes on every new batch)
 * followed by its <em>data</em> (everything else), and the publisher compares only the data to decide
 * whether a file changed: a new batch that changes nothing in a ballot does not rewrite its file. The
 * rendering is deterministic (fixed member order, sorted collections, shares rounded to 4 decimals,
 * times to the millisecond), so the same data always gives the same bytes. Hand-written rather than
 * through a JSON library: logtail-core has none, the shapes are small and fixed, and 5,000 files are
 * rendered every cycle.
 */
final class ResultsJson {
  static final int SCHEMA = 1;
  private static final Pattern SEQ = Pattern.compile("\"seq\":(\\d+)");
  private static final String BATCHES = "\"batches\":{";

  private ResultsJson() {}

  // ------------------------------------------------------------------ data parts

  /** The data of {@code results/index.json}: {@code "ballots":[...]}. */
  static String indexData(ResultsSnapshot s) {
    StringBuilder b = new StringBuilder(128 + s.ballots().size() * 200);
    b.append("\"ballots\":[");
    boolean first = true;
    for (ResultsSnapshot.Ballot bl : s.ballots()) {
      if (!first) {
        b.append(',');
      }
      first = false;
      b.append("{\"ballot\":");
      str(b, bl.ballot());
      b.append(",\"votes\":").append(bl.votes());
      choices(b, bl);
      b.append(",\"duplicates\":").append(bl.duplicateAttempts());
      b.append(",\"rejects\":").append(bl.rejects());
      turnout(b, bl);
      b.append('}');
    }
    return b.append(']').toString();
  }

  /** The data of {@code results/ballot/<ballot>.json}. */
  static String ballotData(ResultsSnapshot.Ballot bl) {
    StringBuilder b = new StringBuilder(256);
    b.append("\"votes\":").append(bl.votes());
    choices(b, bl);
    b.append(",\"duplicates\":{\"voters\":").append(bl.duplicateVoters()).append(",\"attempts\":")
        .append(bl.duplicateAttempts()).append('}');
    b.append(",\"rejects\":{\"total\":").append(bl.rejects()).append(",\"by_reason\":{");
    boolean first = true;
    for (Map.Entry<String, Long> e : bl.rejectsByReason().entrySet()) {
      if (!first) {
        b.append(',');
      }
      first = false;
      str(b, e.getKey());
      b.append(':').append(e.getValue());
    }
    b.append("}}");
    turnout(b, bl);
    return b.toString();
  }

  /** The data of {@code canvass/cells.geojson}: {@code "features":[...]}. */
  static String cellsData(List<ResultsSnapshot.Cell> cells) {
    StringBuilder b = new StringBuilder(64 + cells.size() * 330);
    b.append("\"features\":[");
    boolean first = true;
    for (ResultsSnapshot.Cell c : cells) {
      if (!first) {
        b.append(',');
      }
      first = false;
      String lat0 = deg(c.cellLat());
      String lat1 = deg(c.cellLat() + 1L);
      String lon0 = deg(c.cellLon());
      String lon1 = deg(c.cellLon() + 1L);
      // GeoJSON positions are [lon, lat]; the outer ring counter-clockwise, closed (RFC 7946 3.1.6)
      b.append("{\"type\":\"Feature\",\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[")
          .append(lon0).append(',').append(lat0).append("],[")
          .append(lon1).append(',').append(lat0).append("],[")
          .append(lon1).append(',').append(lat1).append("],[")
          .append(lon0).append(',').append(lat1).append("],[")
          .append(lon0).append(',').append(lat0).append("]]]}");
      b.append(",\"properties\":{\"cell_lat\":").append(c.cellLat()).append(",\"cell_lon\":").append(c.cellLon())
          .append(",\"records\":").append(c.records()).append(",\"visits\":").append(c.visits())
          .append(",\"followups\":").append(c.followups()).append(",\"intentions\":{");
      boolean f2 = true;
      for (Map.Entry<String, long[]> e : c.intentions().entrySet()) {
        if (!f2) {
          b.append(',');
        }
        f2 = false;
        str(b, e.getKey());
        long[] n = e.getValue();
        b.append(":{\"yes\":").append(n[0]).append(",\"no\":").append(n[1]).append(",\"undecided\":").append(n[2])
            .append('}');
      }
      b.append("}}}");
    }
    return b.append(']').toString();
  }

  private static void choices(StringBuilder b, ResultsSnapshot.Ballot bl) {
    b.append(",\"choices\":[");
    boolean first = true;
    for (ResultsSnapshot.Choice c : bl.choices()) {
      if (!first) {
        b.append(',');
      }
      first = false;
      b.append("{\"choice\":");
      str(b, c.choice());
      b.append(",\"votes\":").append(c.votes()).append(",\"share\":").append(share(c.votes(), bl.votes())).append('}');
    }
    b.append(']');
  }

  private static void turnout(StringBuilder b, ResultsSnapshot.Ballot bl) {
    b.append(",\"turnout\":");
    if (bl.roll() == null) {
      b.append("null");
    } else {
      b.append("{\"roll\":").append(bl.roll()).append(",\"voted\":").append(bl.votes()).append(",\"share\":")
          .append(bl.roll() == 0 ? "null" : share(bl.votes(), bl.roll())).append('}');
    }
  }

  /** {@code part / whole} to 4 decimals (half even), without trailing zeros; 0 when whole is 0. */
  static String share(long part, long whole) {
    if (whole == 0) {
      return "0";
    }
    BigDecimal s = BigDecimal.valueOf(part).divide(BigDecimal.valueOf(whole), 4, RoundingMode.HALF_EVEN);
    return s.signum() == 0 ? "0" : s.stripTrailingZeros().toPlainString();
  }

  /** A cell edge in degrees, exactly: {@code millis / 1000}. */
  private static String deg(long milliDegrees) {
    BigDecimal d = BigDecimal.valueOf(milliDegrees, 3);
    return d.signum() == 0 ? "0" : d.stripTrailingZeros().toPlainString();
  }

  // ------------------------------------------------------------------ whole files

  static String index(long seq, Instant updatedAt, Map<String, Long> batches, String data) {
    StringBuilder b = header(new StringBuilder(data.length() + 256).append('{'), seq, null, updatedAt, batches);
    return b.append(',').append(data).append('}').toString();
  }

  static String ballot(long seq, String ballot, Instant updatedAt, Map<String, Long> batches, String data) {
    StringBuilder b = header(new StringBuilder(data.length() + 256).append('{'), seq, ballot, updatedAt, batches);
    return b.append(',').append(data).append('}').toString();
  }

  static String cells(long seq, Instant updatedAt, Map<String, Long> batches, String data) {
    StringBuilder b = new StringBuilder(data.length() + 256).append("{\"type\":\"FeatureCollection\",");
    return header(b, seq, null, updatedAt, batches).append(',').append(data).append('}').toString();
  }

  private static StringBuilder header(StringBuilder b, long seq, String ballot, Instant updatedAt,
      Map<String, Long> batches) {
    b.append("\"schema\":").append(SCHEMA).append(",\"seq\":").append(seq);
    if (ballot != null) {
      b.append(",\"ballot\":");
      str(b, ballot);
    }
    b.append(",\"updated_at\":");
    time(b, updatedAt);
    b.append(',').append(BATCHES);
    boolean first = true;
    for (Map.Entry<String, Long> e : batches.entrySet()) {
      if (!first) {
        b.append(',');
      }
      first = false;
      str(b, e.getKey());
      b.append(':').append(e.getValue());
    }
    return b.append('}');
  }

  /** {@code results/status.json}. */
  static String status(long seq, Instant checkedAt, Duration interval, boolean ok, Instant staleSince,
      String error, Instant lastSuccessAt) {
    StringBuilder b = new StringBuilder(256);
    b.append("{\"schema\":").append(SCHEMA).append(",\"seq\":").append(seq).append(",\"checked_at\":");
    time(b, checkedAt);
    b.append(",\"interval_s\":").append(BigDecimal.valueOf(interval.toMillis(), 3).stripTrailingZeros().toPlainString());
    b.append(",\"ok\":").append(ok).append(",\"stale_since\":");
    time(b, staleSince);
    b.append(",\"error\":");
    str(b, error);
    b.append(",\"last_success_at\":");
    time(b, lastSuccessAt);
    return b.append('}').toString();
  }

  // ------------------------------------------------------------------ reading back (at start)

  /** The {@code seq} of a file this class wrote, or -1. */
  static long seqOf(String text) {
    Matcher m = SEQ.matcher(text);
    return m.find() ? Long.parseLong(m.group(1)) : -1;
  }

  /**
   * The data part of a file this class wrote (what follows the header's {@code batches} object), or
   * null when {@code text} is not such a file (then it is rewritten).
   */
  static String dataOf(String text) {
    int i = text.indexOf(BATCHES);
    if (i < 0 || !text.endsWith("}")) {
      return null;
    }
    // the batches object holds only strings (node names) and numbers: its end is the first '}' outside a string
    boolean inString = false;
    for (int j = i + BATCHES.length(); j < text.length(); j++) {
      char ch = text.charAt(j);
      if (inString) {
        if (ch == '\\') {
          j++;
        } else if (ch == '"') {
          inString = false;
        }
      } else if (ch == '"') {
        inString = true;
      } else if (ch == '}') {
        if (j + 2 >= text.length() || text.charAt(j + 1) != ',') {
          return null;
        }
        return text.substring(j + 2, text.length() - 1);
      }
    }
    return null;
  }

  // ------------------------------------------------------------------ JSON atoms

  static void time(StringBuilder b, Instant t) {
    if (t == null) {
      b.append("null");
    } else {
      b.append('"').append(t.truncatedTo(ChronoUnit.MILLIS)).append('"');
    }
  }

  /** {@code s} as a JSON string (for log lines: a hostile name cannot forge one). */
  static String quoted(String s) {
    StringBuilder b = new StringBuilder(s == null ? 4 : s.length() + 2);
    str(b, s);
    return b.toString();
  }

  static void str(StringBuilder b, String s) {
    io.logtail.worker.StatusFile.str(b, s);   // one JSON string escaper for every hand-written document
  }
}
