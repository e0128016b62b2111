package io.logtail.parse;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/** SIMD-within-a-register helpers: look at 8 bytes per step. */
final class Swar {
  private Swar() {}

  static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  static final long ONES = 0x0101010101010101L;
  static final long HIGHS = 0x8080808080808080L;

  static long pattern(byte b) {
    return (b & 0xFFL) * ONES;
  }

  /**
   * High bit set in each byte of w equal to the pattern's byte. Only the lowest set bit is exact
   * (borrows may flag bytes above a real match), which is all callers use.
   */
  static long eq(long w, long pattern) {
    long x = w ^ pattern;
    return (x - ONES) & ~x & HIGHS;
  }

  static long load(byte[] b, int at) {
    return (long) LONG.get(b, at);
  }

  /** Index of the first set byte in a match mask. */
  static int first(long mask) {
    return Long.numberOfTrailingZeros(mask) >>> 3;
  }
}
