package io.logtail.verify;

import io.logtail.tail.Fingerprint;
import java.nio.charset.StandardCharsets;

/**
 * A set of strings kept as two independent 64-bit hashes each (xxHash64 and FNV-1a 64 of the UTF-8
 * bytes): 16 bytes per member and no object, for the canvass eids. Two different eids would have to
 * collide in both 64-bit hashes at once to be confused (about 2^-128 per pair).
 */
final class HashSet128 {
  private long[] a;
  private long[] b;
  private boolean[] used;
  private int size;
  private int mask;

  HashSet128(int expected) {
    int cap = 1024;
    while (cap * 0.7 < expected) cap <<= 1;
    alloc(cap);
  }

  private void alloc(int cap) {
    a = new long[cap];
    b = new long[cap];
    used = new boolean[cap];
    mask = cap - 1;
    size = 0;
  }

  int size() { return size; }

  int capacity() { return mask + 1; }

  static long fnv1a(byte[] s) {
    long h = 0xcbf29ce484222325L;
    for (byte x : s) {
      h ^= x & 0xFF;
      h *= 0x100000001b3L;
    }
    return h;
  }

  /** Adds {@code s}; true when it was not a member yet. */
  boolean add(String s) {
    byte[] u = s.getBytes(StandardCharsets.UTF_8);
    return add(Fingerprint.xxHash64(u, 0, u.length), fnv1a(u));
  }

  private boolean add(long h1, long h2) {
    if (size + 1 > (mask + 1) * 0.7) grow();
    long m = h1 ^ (h1 >>> 29);
    int i = (int) (m ^ (m >>> 32)) & mask;
    while (used[i]) {
      if (a[i] == h1 && b[i] == h2) return false;
      i = (i + 1) & mask;
    }
    used[i] = true;
    a[i] = h1;
    b[i] = h2;
    size++;
    return true;
  }

  private void grow() {
    long[] oa = a, ob = b;
    boolean[] ou = used;
    alloc((mask + 1) * 2);
    for (int i = 0; i < ou.length; i++) {
      if (ou[i]) add(oa[i], ob[i]);
    }
  }
}
