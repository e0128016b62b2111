package io.logtail.event;

import java.nio.charset.StandardCharsets;

/**
 * A small bounded cache from ASCII byte sequences to their String, so that values that repeat across
 * lines (ballot, choice, issue, canvasser) are not allocated per line. Direct-mapped: a colliding new
 * key replaces the old one, so memory stays bounded whatever the input. Not thread-safe (one per
 * decoder).
 */
final class ByteInterner {
  private final byte[][] keys;
  private final String[] values;
  private final int mask;

  ByteInterner(int capacityPowerOfTwo) {
    if (Integer.bitCount(capacityPowerOfTwo) != 1) {
      throw new IllegalArgumentException("capacity must be a power of two");
    }
    keys = new byte[capacityPowerOfTwo][];
    values = new String[capacityPowerOfTwo];
    mask = capacityPowerOfTwo - 1;
  }

  private static final java.lang.invoke.VarHandle LONG =
      java.lang.invoke.MethodHandles.byteArrayViewVarHandle(long[].class, java.nio.ByteOrder.LITTLE_ENDIAN);

  /** A cheap hash: the first and last 8 bytes (or all of a short key) and the length. */
  private static int hash(byte[] b, int off, int len) {
    long x;
    if (len >= 8) {
      x = (long) LONG.get(b, off) * 0x9E3779B97F4A7C15L + (long) LONG.get(b, off + len - 8);
    } else {
      x = 0;
      for (int i = 0; i < len; i++) {
        x = x << 8 | (b[off + i] & 0xFF);
      }
    }
    x = (x + len) * 0xC2B2AE3D27D4EB4FL;
    return (int) (x ^ x >>> 29 ^ x >>> 47);
  }

  /** The String of ASCII (or Latin-1) bytes b[off, off+len). */
  String intern(byte[] b, int off, int len) {
    int slot = hash(b, off, len) & mask;
    byte[] k = keys[slot];
    if (k != null && k.length == len && java.util.Arrays.equals(k, 0, len, b, off, off + len)) {
      return values[slot];
    }
    String s = new String(b, off, len, StandardCharsets.ISO_8859_1);
    keys[slot] = java.util.Arrays.copyOfRange(b, off, off + len);
    values[slot] = s;
    return s;
  }
}
