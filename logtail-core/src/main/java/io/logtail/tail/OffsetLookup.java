package io.logtail.tail;

/**
 * Where to resume a stream: the committed offset of a fingerprint, or 0 for a stream never seen.
 * Backed by the database's committed offsets in production (the database is the truth of what it
 * holds), by a map in tests.
 */
@FunctionalInterface
public interface OffsetLookup {
  long committedOffset(long fingerprint);

  OffsetLookup NONE = fp -> 0L;
}
