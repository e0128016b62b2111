package io.logtail.tail;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * Remembers which problem was last reported for each key (a path or a glob) so that a file that
 * stays unreadable is logged once, not on every poll, and its recovery is logged once too.
 * Entries of keys that are no longer seen are dropped, so the map stays as small as the set of
 * files the globs match.
 */
final class OnceLog {
  private final Map<Object, String> reported = new HashMap<>();

  /** True when {@code problem} is new for {@code key}: the caller logs it. */
  boolean first(Object key, String problem) {
    return !problem.equals(reported.put(key, problem));
  }

  /** True when {@code key} had a problem reported: the caller logs the recovery. */
  boolean resolved(Object key) {
    return reported.remove(key) != null;
  }

  void retainOnly(Set<?> keys) {
    reported.keySet().removeIf(k -> !keys.contains(k));
  }
}
