package io.logtail.parse;

/**
 * Splits and percent-decodes a query string ({@code k=v&k2=v2}) into a reusable table of decoded
 * keys and values: slices of the source when they need no decoding (no copy), else of this object's
 * scratch buffer. Valid until the next parse and as long as the source is unchanged. One instance per thread, reused per line.
 *
 * <p>Rules (deterministic): parameters are separated by {@code &}; empty segments ({@code a=1&&b=2},
 * a trailing {@code &}) are ignored and not counted; a key without {@code =} has an empty value; the
 * first {@code =} separates key from value (later ones belong to the value); in keys and values
 * {@code %HH} (any case) is a byte and {@code +} a space; {@code %} not followed by two hex digits is
 * {@link #BAD_PERCENT}; more than {@link #MAX_PARAMS} parameters is {@link #TOO_MANY}. Repeated keys
 * are all kept, in order: the caller decides what repetition means. Decoded bytes are not checked for
 * UTF-8 here.
 */
public final class QueryString {
  public static final int MAX_PARAMS = 64;

  public static final int OK = 0;
  public static final int BAD_PERCENT = 1;
  public static final int TOO_MANY = 2;

  private byte[] buf = new byte[512];
  private int d; // write position in buf
  private byte[] src;
  // whether key/value i lives in buf (decoded) rather than in src: flags, not references, so the
  // hot loop does no reference stores (GC write barriers)
  private final boolean[] keyInBuf = new boolean[MAX_PARAMS];
  private final boolean[] valInBuf = new boolean[MAX_PARAMS];
  private final int[] keyOff = new int[MAX_PARAMS];
  private final int[] keyLen = new int[MAX_PARAMS];
  private final int[] valOff = new int[MAX_PARAMS];
  private final int[] valLen = new int[MAX_PARAMS];
  private int count;

  // '%' (0x25) and '&' (0x26) share 0x24..0x27 once the low two bits are cleared; '$' and '\''
  // then match too (rare in queries) and are filtered by the caller's exact checks
  private static final long LOW2 = Swar.pattern((byte) 0xFC);
  private static final long PCT_AMP = Swar.pattern((byte) 0x24);
  private static final long EQ = Swar.pattern((byte) '=');
  private static final long PLUS = Swar.pattern((byte) '+');

  /** Index of the first of {@code & = % +} in b[i, n) (maybe earlier: a {@code $} or {@code '}), or n. */
  private static int nextSpecial(byte[] b, int i, int n) {
    while (i + 8 <= n) {
      long w = Swar.load(b, i);
      long m = Swar.eq(w & LOW2, PCT_AMP) | Swar.eq(w, EQ) | Swar.eq(w, PLUS);
      if (m != 0) {
        return i + Swar.first(m);
      }
      i += 8;
    }
    while (i < n) {
      byte c = b[i];
      if (c == '&' || c == '=' || c == '%' || c == '+') {
        return i;
      }
      i++;
    }
    return n;
  }

  /** Parses {@code src[off, off+len)}; returns {@link #OK}, {@link #BAD_PERCENT} or {@link #TOO_MANY}. */
  public int parse(byte[] src, int off, int len) {
    count = 0;
    if (buf.length < len) {
      buf = new byte[Math.max(len, buf.length * 2)];
    }
    d = 0;
    this.src = src;
    int i = off;
    final int end = off + len;
    while (i < end) {
      if (src[i] == '&') {
        i++;
        continue;
      }
      if (count == MAX_PARAMS) {
        return TOO_MANY;
      }
      i = part(src, i, end, true);
      if (i < 0) {
        return BAD_PERCENT;
      }
      if (i < end && src[i] == '=') {
        i = part(src, i + 1, end, false);
        if (i < 0) {
          return BAD_PERCENT;
        }
      } else {
        valInBuf[count] = false;
        valOff[count] = i;
        valLen[count] = 0;
      }
      count++;
    }
    return OK;
  }

  /**
   * One key (ends at & or =) or value (ends at &) from src[i..]: recorded as a slice of src when it
   * holds no % or +, else decoded into buf. Returns where it ended, or -1 on a bad %-sequence.
   */
  private int part(byte[] src, int i, int end, boolean isKey) {
    final int s = i;
    while (true) {
      int j = nextSpecial(src, i, end);
      byte c = j < end ? src[j] : (byte) '&';
      if (c == '&' || (c == '=' && isKey)) {
        record(isKey, false, s, j - s);
        return j;
      }
      if (c != '%' && c != '+') { // '=' inside a value, or a '$' / '\'' candidate
        i = j + 1;
        continue;
      }
      // % or +: decode this part into buf
      final byte[] dst = buf;
      int ds = d;
      int w = ds;
      System.arraycopy(src, s, dst, w, j - s);
      w += j - s;
      i = j;
      while (i < end) {
        c = src[i];
        if (c == '&' || (c == '=' && isKey)) {
          break;
        }
        if (c == '%') {
          int v = percentByte(src, i, end);
          if (v < 0) {
            return -1;
          }
          dst[w++] = (byte) v;
          i += 3;
        } else {
          dst[w++] = c == '+' ? (byte) ' ' : c;
          i++;
        }
      }
      d = w;
      record(isKey, true, ds, w - ds);
      return i;
    }
  }

  private void record(boolean isKey, boolean inBuf, int off, int len) {
    if (isKey) {
      keyInBuf[count] = inBuf;
      keyOff[count] = off;
      keyLen[count] = len;
    } else {
      valInBuf[count] = inBuf;
      valOff[count] = off;
      valLen[count] = len;
    }
  }

  /** Number of parameters found by the last {@link #parse}. */
  public int count() { return count; }

  /** The buffer holding key i: the parsed source when it needed no decoding, else a scratch buffer. */
  public byte[] keyBuf(int i) { return keyInBuf[i] ? buf : src; }
  /** The buffer holding value i (see {@link #keyBuf}). */
  public byte[] valBuf(int i) { return valInBuf[i] ? buf : src; }

  public int keyOff(int i) { return keyOff[i]; }
  public int keyLen(int i) { return keyLen[i]; }
  public int valOff(int i) { return valOff[i]; }
  public int valLen(int i) { return valLen[i]; }

  /**
   * Percent-decodes a path ({@code %HH}; {@code +} stays {@code +}) from src into dst at dstOff.
   * Returns the decoded length, or -1 on an invalid sequence. dst needs room for len bytes.
   */
  public static int decodePath(byte[] src, int off, int len, byte[] dst, int dstOff) {
    int d = dstOff;
    int end = off + len;
    for (int i = off; i < end; ) {
      byte b = src[i];
      if (b == '%') {
        int v = percentByte(src, i, end);
        if (v < 0) {
          return -1;
        }
        dst[d++] = (byte) v;
        i += 3;
      } else {
        dst[d++] = b;
        i++;
      }
    }
    return d - dstOff;
  }

  /** The byte of the {@code %HH} escape at {@code src[i]}, or -1 when it is cut short or not hex. */
  private static int percentByte(byte[] src, int i, int end) {
    if (end - i < 3) {
      return -1;
    }
    int h = LogFormat.hex(src[i + 1]);
    int l = LogFormat.hex(src[i + 2]);
    return (h | l) < 0 ? -1 : h << 4 | l;
  }
}
