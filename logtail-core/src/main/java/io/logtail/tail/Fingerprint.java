package io.logtail.tail;

/**
 * The fingerprint of a stream: xxHash64 (seed 0, the reference algorithm by Yann Collet) of its first
 * line including the {@code \n}, or of its first {@link Source#FINGERPRINT_MAX_BYTES} bytes when the
 * first line is longer.
 *
 * <p>xxHash64 was chosen because it is a well specified, well distributed 64-bit hash with published
 * test vectors (checked in {@code FingerprintTest}), so the fingerprints written to the database stay
 * stable across versions and languages. It is not cryptographic: it identifies a stream among the
 * files of one machine, it does not defend against forged logs.
 *
 * <p>Public so that {@code logtail verify} identifies streams exactly as the tailer does.
 */
public final class Fingerprint {
  private static final long P1 = 0x9E3779B185EBCA87L;
  private static final long P2 = 0xC2B2AE3D27D4EB4FL;
  private static final long P3 = 0x165667B19E3779F9L;
  private static final long P4 = 0x85EBCA77C2B2AE63L;
  private static final long P5 = 0x27D4EB2F165667C5L;

  private Fingerprint() {}

  /**
   * How many of the first {@code n} bytes of a file identify it: up to and including the first
   * {@code \n}, or {@link Source#FINGERPRINT_MAX_BYTES} when there is no {@code \n} in that many
   * bytes; -1 while neither is on disk yet (the file is not identifiable yet).
   */
  public static int identifyingLength(byte[] firstBytes, int n) {
    int limit = Math.min(n, Source.FINGERPRINT_MAX_BYTES);
    for (int i = 0; i < limit; i++) {
      if (firstBytes[i] == '\n') return i + 1;
    }
    return n >= Source.FINGERPRINT_MAX_BYTES ? Source.FINGERPRINT_MAX_BYTES : -1;
  }

  /** xxHash64 of {@code b[off, off+len)} with seed 0. */
  public static long xxHash64(byte[] b, int off, int len) {
    int end = off + len;
    int p = off;
    long h;
    if (len >= 32) {
      long v1 = P1 + P2;
      long v2 = P2;
      long v3 = 0;
      long v4 = -P1;
      int limit = end - 32;
      do {
        v1 = round(v1, le64(b, p));
        v2 = round(v2, le64(b, p + 8));
        v3 = round(v3, le64(b, p + 16));
        v4 = round(v4, le64(b, p + 24));
        p += 32;
      } while (p <= limit);
      h = Long.rotateLeft(v1, 1) + Long.rotateLeft(v2, 7) + Long.rotateLeft(v3, 12)
          + Long.rotateLeft(v4, 18);
      h = merge(h, v1);
      h = merge(h, v2);
      h = merge(h, v3);
      h = merge(h, v4);
    } else {
      h = P5;
    }
    h += len;
    while (p + 8 <= end) {
      h ^= round(0, le64(b, p));
      h = Long.rotateLeft(h, 27) * P1 + P4;
      p += 8;
    }
    if (p + 4 <= end) {
      h ^= (le32(b, p) & 0xFFFFFFFFL) * P1;
      h = Long.rotateLeft(h, 23) * P2 + P3;
      p += 4;
    }
    while (p < end) {
      h ^= (b[p] & 0xFFL) * P5;
      h = Long.rotateLeft(h, 11) * P1;
      p++;
    }
    h ^= h >>> 33;
    h *= P2;
    h ^= h >>> 29;
    h *= P3;
    h ^= h >>> 32;
    return h;
  }

  private static long round(long acc, long input) {
    acc += input * P2;
    acc = Long.rotateLeft(acc, 31);
    return acc * P1;
  }

  private static long merge(long h, long v) {
    h ^= round(0, v);
    return h * P1 + P4;
  }

  private static long le64(byte[] b, int i) {
    return (b[i] & 0xFFL) | (b[i + 1] & 0xFFL) << 8 | (b[i + 2] & 0xFFL) << 16
        | (b[i + 3] & 0xFFL) << 24 | (b[i + 4] & 0xFFL) << 32 | (b[i + 5] & 0xFFL) << 40
        | (b[i + 6] & 0xFFL) << 48 | (b[i + 7] & 0xFFL) << 56;
  }

  private static int le32(byte[] b, int i) {
    return (b[i] & 0xFF) | (b[i + 1] & 0xFF) << 8 | (b[i + 2] & 0xFF) << 16 | (b[i + 3] & 0xFF) << 24;
  }
}
