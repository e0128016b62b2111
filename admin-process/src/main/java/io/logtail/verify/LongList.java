package io.logtail.verify;

import java.util.Arrays;

/** A growable long[]: the line offsets of one source's rows in one table, sorted before use. */
final class LongList {
  long[] a = new long[16];
  int n;

  void add(long v) {
    if (n == a.length) a = Arrays.copyOf(a, a.length * 2);
    a[n++] = v;
  }

  void sort() {
    Arrays.sort(a, 0, n);
  }
}
