package io.logtail.event;

import io.logtail.parse.ParsedLine;
import io.logtail.parse.QueryString;
import java.nio.charset.StandardCharsets;

/**
 * Turns a parsed log line into a beacon event, a rejection, or "skipped" (not under {@code /b/}).
 * See docs/beacons.md for the contract. One instance per thread; the returned events are reused.
 *
 * <p>Checks, in this order (the first failure decides): path outside {@code /b/} → skipped;
 * undecodable path under {@code /b/} → bad_percent_encoding; method not GET → method_not_get;
 * status not 2xx/304 → bad_status; path not a known beacon → unknown_beacon; query
 * (bad_percent_encoding / too_many_params, whichever comes first left to right); a known parameter
 * twice → repeated_param; then each parameter in the documented order.
 */
public final class BeaconDecoder {

  /** What {@link #decode} made of a line. */
  public enum Outcome { VOTE, CANVASS, REJECT, SKIPPED }

  public static final int MAX_ID = 64;
  public static final int MAX_REQUEST_CHARS = 500;

  // parameter slots
  private static final int P_BALLOT = 0;
  private static final int P_CHOICE = 1;
  private static final int P_VOTER = 2;
  private static final int P_EID = 3;
  private static final int P_KIND = 4;
  private static final int P_DWELLING = 5;
  private static final int P_CANVASSER = 6;
  private static final int P_LAT = 7;
  private static final int P_LON = 8;
  private static final int P_ISSUE = 9;
  private static final int P_STANCE = 10;
  private static final int P_REQUEST = 11;
  private static final int P_COUNT = 12;

  private static final boolean[] ID = new boolean[256];
  private static final boolean[] EID = new boolean[256];

  static {
    for (int c = 0; c < 256; c++) {
      boolean id = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
          || c == '.' || c == '_' || c == '-';
      ID[c] = id;
      EID[c] = id || c == ':';
    }
  }

  private final QueryString query = new QueryString();
  private final int[] slot = new int[P_COUNT];
  private byte[] pathScratch = new byte[256];
  private final ByteInterner interner = new ByteInterner(4096);

  private final VoteEvent vote = new VoteEvent();
  private final CanvassEvent canvass = new CanvassEvent();
  private RejectReason reason;

  // result of parseCoord
  private long coordE7;
  private int coordCell;

  public BeaconDecoder() {}

  /** The vote of the last {@link Outcome#VOTE}. */
  public VoteEvent vote() { return vote; }

  /** The canvass record of the last {@link Outcome#CANVASS}. */
  public CanvassEvent canvass() { return canvass; }

  /** Why the last line was rejected ({@link Outcome#REJECT}). */
  public RejectReason reason() { return reason; }

  private Outcome reject(RejectReason r) {
    reason = r;
    return Outcome.REJECT;
  }

  public Outcome decode(ParsedLine p) {
    reason = null;
    byte[] pb = p.pathBuf();
    int po = p.pathOff();
    int pl = p.pathLen();
    boolean rawBeacon = startsWithB(pb, po, pl);
    if (!p.pathDecoded() && indexOf(pb, po, pl, (byte) '%') >= 0) {
      if (pathScratch.length < pl) {
        pathScratch = new byte[Math.max(pl, pathScratch.length * 2)];
      }
      int dl = QueryString.decodePath(pb, po, pl, pathScratch, 0);
      if (dl < 0) {
        return rawBeacon ? reject(RejectReason.BAD_PERCENT_ENCODING) : Outcome.SKIPPED;
      }
      pb = pathScratch;
      po = 0;
      pl = dl;
    }
    if (!startsWithB(pb, po, pl)) {
      return Outcome.SKIPPED;
    }
    if (!isGet(p)) {
      return reject(RejectReason.METHOD_NOT_GET);
    }
    int st = p.status();
    if (!((st >= 200 && st <= 299) || st == 304)) {
      return reject(RejectReason.BAD_STATUS);
    }
    boolean isVote;
    if (equalsAscii(pb, po, pl, "/b/vote.gif")) {
      isVote = true;
    } else if (equalsAscii(pb, po, pl, "/b/canvass.gif")) {
      isVote = false;
    } else {
      return reject(RejectReason.UNKNOWN_BEACON);
    }

    // parameters
    for (int i = 0; i < P_COUNT; i++) {
      slot[i] = -1;
    }
    int n = 0;
    if (p.hasQuery()) {
      int qr = query.parse(p.queryBuf(), p.queryOff(), p.queryLen());
      if (qr == QueryString.BAD_PERCENT) {
        return reject(RejectReason.BAD_PERCENT_ENCODING);
      }
      if (qr == QueryString.TOO_MANY) {
        return reject(RejectReason.TOO_MANY_PARAMS);
      }
      n = query.count();
    }
    for (int i = 0; i < n; i++) {
      int k = known(query.keyBuf(i), query.keyOff(i), query.keyLen(i), isVote);
      if (k >= 0) {
        if (slot[k] >= 0) {
          return reject(RejectReason.REPEATED_PARAM);
        }
        slot[k] = i;
      }
    }
    return isVote ? vote(p) : canvass(p);
  }

  private Outcome vote(ParsedLine p) {
    VoteEvent v = vote;
    int i = slot[P_BALLOT];
    if (i < 0) {
      return reject(RejectReason.MISSING_BALLOT);
    }
    if (!isId(query.valBuf(i), query.valOff(i), query.valLen(i), ID)) {
      return reject(RejectReason.BAD_BALLOT);
    }
    v.ballot = interner.intern(query.valBuf(i), query.valOff(i), query.valLen(i));
    i = slot[P_CHOICE];
    if (i < 0) {
      return reject(RejectReason.MISSING_CHOICE);
    }
    if (!isId(query.valBuf(i), query.valOff(i), query.valLen(i), ID)) {
      return reject(RejectReason.BAD_CHOICE);
    }
    v.choice = interner.intern(query.valBuf(i), query.valOff(i), query.valLen(i));
    i = slot[P_VOTER];
    if (i < 0) {
      return reject(RejectReason.MISSING_VOTER);
    }
    if (!hex32(query.valBuf(i), query.valOff(i), query.valLen(i), v.voter)) {
      return reject(RejectReason.BAD_VOTER);
    }
    i = slot[P_EID];
    if (i < 0) {
      v.eid = null;
    } else {
      if (!isId(query.valBuf(i), query.valOff(i), query.valLen(i), EID)) {
        return reject(RejectReason.BAD_EID);
      }
      v.eid = ascii(query.valBuf(i), query.valOff(i), query.valLen(i));
    }
    v.timeMicros = p.timeMicros();
    return Outcome.VOTE;
  }

  private Outcome canvass(ParsedLine p) {
    CanvassEvent c = canvass;
    int i = slot[P_KIND];
    if (i < 0) {
      return reject(RejectReason.MISSING_KIND);
    }
    CanvassEvent.Kind kind = kind(query.valBuf(i), query.valOff(i), query.valLen(i));
    if (kind == null) {
      return reject(RejectReason.BAD_KIND);
    }
    i = slot[P_DWELLING];
    if (i < 0) {
      return reject(RejectReason.MISSING_DWELLING);
    }
    if (!isId(query.valBuf(i), query.valOff(i), query.valLen(i), ID)) {
      return reject(RejectReason.BAD_DWELLING);
    }
    int dwellingI = i;
    i = slot[P_CANVASSER];
    if (i < 0) {
      return reject(RejectReason.MISSING_CANVASSER);
    }
    if (!isId(query.valBuf(i), query.valOff(i), query.valLen(i), ID)) {
      return reject(RejectReason.BAD_CANVASSER);
    }
    int canvasserI = i;
    i = slot[P_LAT];
    if (i < 0) {
      return reject(RejectReason.MISSING_LAT);
    }
    if (!parseCoord(query.valBuf(i), query.valOff(i), query.valLen(i), 90)) {
      return reject(RejectReason.BAD_LAT);
    }
    long latE7 = coordE7;
    int cellLat = coordCell;
    i = slot[P_LON];
    if (i < 0) {
      return reject(RejectReason.MISSING_LON);
    }
    if (!parseCoord(query.valBuf(i), query.valOff(i), query.valLen(i), 180)) {
      return reject(RejectReason.BAD_LON);
    }
    long lonE7 = coordE7;
    int cellLon = coordCell;
    i = slot[P_EID];
    if (i < 0) {
      return reject(RejectReason.MISSING_EID);
    }
    if (!isId(query.valBuf(i), query.valOff(i), query.valLen(i), EID)) {
      return reject(RejectReason.BAD_EID);
    }
    int eidI = i;
    String issue = null;
    CanvassEvent.Stance stance = null;
    String request = null;
    if (kind == CanvassEvent.Kind.intention) {
      i = slot[P_ISSUE];
      if (i < 0) {
        return reject(RejectReason.MISSING_ISSUE);
      }
      if (!isId(query.valBuf(i), query.valOff(i), query.valLen(i), ID)) {
        return reject(RejectReason.BAD_ISSUE);
      }
      issue = interner.intern(query.valBuf(i), query.valOff(i), query.valLen(i));
      i = slot[P_STANCE];
      if (i < 0) {
        return reject(RejectReason.MISSING_STANCE);
      }
      stance = stance(query.valBuf(i), query.valOff(i), query.valLen(i));
      if (stance == null) {
        return reject(RejectReason.BAD_STANCE);
      }
    } else if (kind == CanvassEvent.Kind.followup) {
      i = slot[P_REQUEST];
      if (i < 0) {
        return reject(RejectReason.MISSING_REQUEST);
      }
      if (!isFreeText(query.valBuf(i), query.valOff(i), query.valLen(i))) {
        return reject(RejectReason.BAD_REQUEST);
      }
      request = new String(query.valBuf(i), query.valOff(i), query.valLen(i), StandardCharsets.UTF_8);
    }
    c.kind = kind;
    c.dwelling = ascii(query.valBuf(dwellingI), query.valOff(dwellingI), query.valLen(dwellingI));
    c.canvasser = interner.intern(query.valBuf(canvasserI), query.valOff(canvasserI), query.valLen(canvasserI));
    c.eid = ascii(query.valBuf(eidI), query.valOff(eidI), query.valLen(eidI));
    c.latE7 = latE7;
    c.lonE7 = lonE7;
    c.cellLat = cellLat;
    c.cellLon = cellLon;
    c.issue = issue;
    c.stance = stance;
    c.request = request;
    c.timeMicros = p.timeMicros();
    return Outcome.CANVASS;
  }

  // ------------------------------------------------------------------------------------------------

  private static boolean isGet(ParsedLine p) {
    byte[] m = p.methodBuf();
    int o = p.methodOff();
    return p.methodLen() == 3 && m[o] == 'G' && m[o + 1] == 'E' && m[o + 2] == 'T';
  }

  private static boolean startsWithB(byte[] b, int off, int len) {
    return len >= 3 && b[off] == '/' && b[off + 1] == 'b' && b[off + 2] == '/';
  }

  private static int indexOf(byte[] b, int off, int len, byte c) {
    for (int i = off, e = off + len; i < e; i++) {
      if (b[i] == c) {
        return i;
      }
    }
    return -1;
  }

  private static boolean equalsAscii(byte[] b, int off, int len, String s) {
    if (len != s.length()) {
      return false;
    }
    for (int i = 0; i < len; i++) {
      if (b[off + i] != s.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  /** Up to 8 ASCII bytes packed little-endian into a long (for switch-free key comparison). */
  private static long pack(byte[] b, int off, int len) {
    long v = 0;
    for (int i = len - 1; i >= 0; i--) {
      v = v << 8 | (b[off + i] & 0xFF);
    }
    return v;
  }

  private static long pack(String s) {
    byte[] b = s.getBytes(StandardCharsets.US_ASCII);
    return pack(b, 0, Math.min(8, b.length));
  }

  private static final long K_EID = pack("eid");
  private static final long K_LAT = pack("lat");
  private static final long K_LON = pack("lon");
  private static final long K_KIND = pack("kind");
  private static final long K_VOTER = pack("voter");
  private static final long K_ISSUE = pack("issue");
  private static final long K_BALLOT = pack("ballot");
  private static final long K_CHOICE = pack("choice");
  private static final long K_STANCE = pack("stance");
  private static final long K_REQUEST = pack("request");
  private static final long K_DWELLING = pack("dwelling");
  private static final long K_CANVASSE = pack("canvasse");

  /** The slot of a key known to this beacon type, or -1. */
  private static int known(byte[] b, int off, int len, boolean isVote) {
    if (len < 3 || len > 9) {
      return -1;
    }
    long k = pack(b, off, Math.min(len, 8));
    if (isVote) {
      switch (len) {
        case 3: return k == K_EID ? P_EID : -1;
        case 5: return k == K_VOTER ? P_VOTER : -1;
        case 6: return k == K_BALLOT ? P_BALLOT : k == K_CHOICE ? P_CHOICE : -1;
        default: return -1;
      }
    }
    switch (len) {
      case 3: return k == K_EID ? P_EID : k == K_LAT ? P_LAT : k == K_LON ? P_LON : -1;
      case 4: return k == K_KIND ? P_KIND : -1;
      case 5: return k == K_ISSUE ? P_ISSUE : -1;
      case 6: return k == K_STANCE ? P_STANCE : -1;
      case 7: return k == K_REQUEST ? P_REQUEST : -1;
      case 8: return k == K_DWELLING ? P_DWELLING : -1;
      case 9: return k == K_CANVASSE && b[off + 8] == 'r' ? P_CANVASSER : -1;
      default: return -1;
    }
  }

  /**
   * Whether {@code s} is an identifier as the decoder accepts it for a ballot or a choice: 1 to
   * {@value #MAX_ID} of letters, digits, '.', '_', '-' (the publisher uses it to decide whether a
   * ballot name is safe as a file name).
   */
  public static boolean isIdentifier(String s) {
    if (s == null || s.isEmpty() || s.length() > MAX_ID) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c > 0xFF || !ID[c]) {
        return false;
      }
    }
    return true;
  }

  private static boolean isId(byte[] b, int off, int len, boolean[] allowed) {
    if (len < 1 || len > MAX_ID) {
      return false;
    }
    for (int i = off, e = off + len; i < e; i++) {
      if (!allowed[b[i] & 0xFF]) {
        return false;
      }
    }
    return true;
  }

  private static String ascii(byte[] b, int off, int len) {
    return new String(b, off, len, StandardCharsets.ISO_8859_1);
  }

  private static final java.lang.invoke.VarHandle LONG =
      java.lang.invoke.MethodHandles.byteArrayViewVarHandle(long[].class, java.nio.ByteOrder.LITTLE_ENDIAN);
  private static final long ONES = 0x0101010101010101L;
  private static final long HIGHS = 0x8080808080808080L;

  /**
   * 64 hex digits (any case) to 32 bytes, 8 digits per step: each byte is range-checked without
   * carries between bytes (all bytes are below 0x80 first), then the nibbles are paired.
   */
  static boolean hex32(byte[] b, int off, int len, byte[] out) {
    if (len != 64) {
      return false;
    }
    for (int k = 0; k < 8; k++) {
      long w = (long) LONG.get(b, off + 8 * k);
      if ((w & HIGHS) != 0) {
        return false;
      }
      long digit = (w + 0x50 * ONES) & ~(w + 0x46 * ONES) & HIGHS; // 0x30..0x39
      long lower = w | 0x20 * ONES;
      long letter = (lower + 0x1F * ONES) & ~(lower + 0x19 * ONES) & HIGHS; // 'a'..'f' / 'A'..'F'
      if ((digit | letter) != HIGHS) {
        return false;
      }
      long nib = (w & 0x0F * ONES) + (letter >>> 7) * 9; // '0'->0 .. '9'->9, 'a'/'A'->10 .. 'f'/'F'->15
      long pairs = (nib << 4) | (nib >>> 8); // bytes 0, 2, 4, 6 hold the decoded bytes
      int o = 4 * k;
      out[o] = (byte) pairs;
      out[o + 1] = (byte) (pairs >>> 16);
      out[o + 2] = (byte) (pairs >>> 32);
      out[o + 3] = (byte) (pairs >>> 48);
    }
    return true;
  }

  private static CanvassEvent.Kind kind(byte[] b, int off, int len) {
    if (equalsAscii(b, off, len, "visit")) return CanvassEvent.Kind.visit;
    if (equalsAscii(b, off, len, "intention")) return CanvassEvent.Kind.intention;
    if (equalsAscii(b, off, len, "followup")) return CanvassEvent.Kind.followup;
    return null;
  }

  private static CanvassEvent.Stance stance(byte[] b, int off, int len) {
    if (equalsAscii(b, off, len, "yes")) return CanvassEvent.Stance.yes;
    if (equalsAscii(b, off, len, "no")) return CanvassEvent.Stance.no;
    if (equalsAscii(b, off, len, "undecided")) return CanvassEvent.Stance.undecided;
    return null;
  }

  private static final long[] POW10 = {
    1L, 10L, 100L, 1_000L, 10_000L, 100_000L, 1_000_000L, 10_000_000L
  };

  /**
   * A plain decimal {@code [+-]?\d+(\.\d+)?} (at most 32 bytes) with |value| ≤ max, into coordE7 =
   * floor(value·1e7) and coordCell = floor(value·1e3), both exact (no floating point).
   */
  boolean parseCoord(byte[] b, int off, int len, int max) {
    if (len < 1 || len > 32) {
      return false;
    }
    int i = off;
    final int end = off + len;
    boolean neg = false;
    if (b[i] == '+' || b[i] == '-') {
      neg = b[i] == '-';
      i++;
    }
    long ip = 0;
    int is = i;
    while (i < end && b[i] >= '0' && b[i] <= '9') {
      if (ip <= 1000) { // saturates: anything above 1000 is out of range anyway, and cannot overflow
        ip = ip * 10 + (b[i] - '0');
      }
      i++;
    }
    if (i == is) {
      return false;
    }
    long frac7 = 0;
    int fracDigits = 0;
    boolean rest = false; // a nonzero digit beyond the 7th decimal
    if (i < end) {
      if (b[i] != '.') {
        return false;
      }
      i++;
      int fs = i;
      while (i < end && b[i] >= '0' && b[i] <= '9') {
        int d = b[i] - '0';
        if (fracDigits < 7) {
          frac7 = frac7 * 10 + d;
          fracDigits++;
        } else if (d != 0) {
          rest = true;
        }
        i++;
      }
      if (i == fs || i != end) {
        return false;
      }
      frac7 *= POW10[7 - fracDigits];
    }
    if (ip > max || (ip == max && (frac7 != 0 || rest))) {
      return false;
    }
    long mag7 = ip * 10_000_000L + frac7;
    long mag3 = ip * 1_000L + frac7 / 10_000L;
    boolean exact3 = !rest && frac7 % 10_000L == 0;
    if (neg) {
      coordE7 = -(mag7 + (rest ? 1 : 0));
      coordCell = (int) -(mag3 + (exact3 ? 0 : 1));
    } else {
      coordE7 = mag7;
      coordCell = (int) mag3;
    }
    return true;
  }

  /**
   * Free text: valid UTF-8 (no overlongs, surrogates or code points above U+10FFFF), no control
   * characters (U+0000..U+001F, U+007F..U+009F), 1..500 code points.
   */
  static boolean isFreeText(byte[] b, int off, int len) {
    if (len < 1) {
      return false;
    }
    int chars = 0;
    int i = off;
    final int end = off + len;
    while (i < end) {
      int c = b[i] & 0xFF;
      if (c < 0x80) {
        if (c < 0x20 || c == 0x7F) {
          return false;
        }
        i++;
      } else if (c >= 0xC2 && c <= 0xDF) {
        if (i + 1 >= end || (b[i + 1] & 0xC0) != 0x80) {
          return false;
        }
        int cp = (c & 0x1F) << 6 | (b[i + 1] & 0x3F);
        if (cp <= 0x9F) {
          return false; // C1 control
        }
        i += 2;
      } else if (c >= 0xE0 && c <= 0xEF) {
        if (i + 2 >= end || (b[i + 1] & 0xC0) != 0x80 || (b[i + 2] & 0xC0) != 0x80) {
          return false;
        }
        int cp = (c & 0x0F) << 12 | (b[i + 1] & 0x3F) << 6 | (b[i + 2] & 0x3F);
        if (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)) {
          return false;
        }
        i += 3;
      } else if (c >= 0xF0 && c <= 0xF4) {
        if (i + 3 >= end || (b[i + 1] & 0xC0) != 0x80 || (b[i + 2] & 0xC0) != 0x80
            || (b[i + 3] & 0xC0) != 0x80) {
          return false;
        }
        int cp = (c & 0x07) << 18 | (b[i + 1] & 0x3F) << 12 | (b[i + 2] & 0x3F) << 6 | (b[i + 3] & 0x3F);
        if (cp < 0x10000 || cp > 0x10FFFF) {
          return false;
        }
        i += 4;
      } else {
        return false;
      }
      if (++chars > MAX_REQUEST_CHARS) {
        return false;
      }
    }
    return true;
  }
}
