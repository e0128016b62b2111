package io.logtail.flush;

/**
 * A primitive open-addressing set of 64-bit key hashes, bounded: when it holds 3/4 of its slots it is
 * cleared and starts again. The writer keeps the keys of the last planned batch in two of these (the
 * keys that may not be committed yet); a false positive (hash collision) only costs a lookup.
 */
public final class KeyHints implements KeySet {
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

  @Override
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

  @Override
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

  public int capacityLog2() {
    return Integer.numberOfTrailingZeros(slots.length);
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
