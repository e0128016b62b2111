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

  /** The String of ASCII (or Latin-1) bytes b[off, off+len). */
  String intern(byte[] b, int off, int len) {
    int h = len;
    for (int i = 0; i < len; i++) {
      h = 31 * h + b[off + i];
    }
    h ^= h >>> 16;
    int slot = h & mask;
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
