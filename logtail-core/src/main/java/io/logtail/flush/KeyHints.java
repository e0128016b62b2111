package io.logtail.flush;

/**
 * Node-local hints: 64-bit hashes of keys (vote (ballot, voter), canvass eid) that this node has
 * committed. A primitive open-addressing set of longs with bounded memory: when it holds
 * {@code maxKeys} hashes it is cleared and starts again.
 *
 * <p>It is only a hint for choosing the path of a row, never a rule: a false positive (a hash
 * collision, or a key whose batch was rejected) sends a row through the general staging path, which
 * is exact anyway; a false negative (a key committed before the set was cleared, before a restart, or
 * by another node) makes the fast path's COPY hit a unique violation, and the batch's table falls back
 * to the staging path. Used by the flusher thread only; updated only after a commit.
 */
public final class KeyHints {
  private final long[] slots;
  private final int mask;
  private final int maxKeys;
  private int size;
  private boolean hasZero;
  private long clears;

  /** @param log2Slots the table has {@code 2^log2Slots} slots (8 bytes each); it holds up to 3/4 of them. */
  public KeyHints(int log2Slots) {
    if (log2Slots < 4 || log2Slots > 28) {
      throw new IllegalArgumentException("log2Slots out of range: " + log2Slots);
    }
    slots = new long[1 << log2Slots];
    mask = slots.length - 1;
    maxKeys = slots.length / 4 * 3;
  }

  public boolean contains(long h) {
    if (h == 0) {
      return hasZero;
    }
    for (int i = spread(h) & mask; ; i = (i + 1) & mask) {
      long s = slots[i];
      if (s == h) {
        return true;
      }
      if (s == 0) {
        return false;
      }
    }
  }

  public void add(long h) {
    if (h == 0) {
      hasZero = true;
      return;
    }
    if (size >= maxKeys) {
      clear();
      clears++;
    }
    for (int i = spread(h) & mask; ; i = (i + 1) & mask) {
      long s = slots[i];
      if (s == h) {
        return;
      }
      if (s == 0) {
        slots[i] = h;
        size++;
        return;
      }
    }
  }

  public void clear() {
    java.util.Arrays.fill(slots, 0L);
    size = 0;
    hasZero = false;
  }

  public int size() {
    return size + (hasZero ? 1 : 0);
  }

  /** How many times the set was full and cleared. */
  public long clears() {
    return clears;
  }

  private static int spread(long h) {
    return (int) (h ^ (h >>> 29) ^ (h >>> 47));
  }
}
