package io.logtail.parse;

/**
 * Splits and percent-decodes a query string ({@code k=v&k2=v2}) into a reusable table of decoded
 * keys and values, held in this object's scratch buffer. One instance per thread, reused per line.
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
  private final int[] keyOff = new int[MAX_PARAMS];
  private final int[] keyLen = new int[MAX_PARAMS];
  private final int[] valOff = new int[MAX_PARAMS];
  private final int[] valLen = new int[MAX_PARAMS];
  private int count;

  /** Parses {@code src[off, off+len)}; returns {@link #OK}, {@link #BAD_PERCENT} or {@link #TOO_MANY}. */
  public int parse(byte[] src, int off, int len) {
    count = 0;
    if (buf.length < len) {
      buf = new byte[Math.max(len, buf.length * 2)];
    }
    final byte[] dst = buf;
    int d = 0;
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
      int ko = d;
      // key
      while (i < end) {
        byte b = src[i];
        if (b == '&' || b == '=') {
          break;
        }
        if (b == '%') {
          if (end - i < 3) {
            return BAD_PERCENT;
          }
          int h = LogFormat.hex(src[i + 1]);
          int l = LogFormat.hex(src[i + 2]);
          if ((h | l) < 0) {
            return BAD_PERCENT;
          }
          dst[d++] = (byte) (h << 4 | l);
          i += 3;
        } else {
          dst[d++] = b == '+' ? (byte) ' ' : b;
          i++;
        }
      }
      keyOff[count] = ko;
      keyLen[count] = d - ko;
      int vo = d;
      if (i < end && src[i] == '=') {
        i++;
        while (i < end) {
          byte b = src[i];
          if (b == '&') {
            break;
          }
          if (b == '%') {
            if (end - i < 3) {
              return BAD_PERCENT;
            }
            int h = LogFormat.hex(src[i + 1]);
            int l = LogFormat.hex(src[i + 2]);
            if ((h | l) < 0) {
              return BAD_PERCENT;
            }
            dst[d++] = (byte) (h << 4 | l);
            i += 3;
          } else {
            dst[d++] = b == '+' ? (byte) ' ' : b;
            i++;
          }
        }
      }
      valOff[count] = vo;
      valLen[count] = d - vo;
      count++;
    }
    return OK;
  }

  /** Number of parameters found by the last {@link #parse}. */
  public int count() { return count; }

  /** The buffer holding decoded keys and values. */
  public byte[] buf() { return buf; }

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
        if (end - i < 3) {
          return -1;
        }
        int h = LogFormat.hex(src[i + 1]);
        int l = LogFormat.hex(src[i + 2]);
        if ((h | l) < 0) {
          return -1;
        }
        dst[d++] = (byte) (h << 4 | l);
        i += 3;
      } else {
        dst[d++] = b;
        i++;
      }
    }
    return d - dstOff;
  }
}
