package io.logtail.flush;

/** A set of 64-bit key hashes that may answer "maybe" (false positives), never a false "no" until cleared. */
public interface KeySet {
  boolean contains(long h);

  void add(long h);
}
