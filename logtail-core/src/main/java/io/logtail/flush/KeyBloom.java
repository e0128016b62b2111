package io.logtail.flush;

import java.util.Arrays;

/**
 * Node-local hints as a blocked Bloom filter over 64-bit key hashes (vote (ballot, voter), canvass
 * eid): about 10 bits per key, one cache line per key (8 bits, one in each 64-bit word of a 512-bit
 * block), about 1 % false positives at capacity. When it holds {@code capacity} keys it is cleared
 * and starts again: memory is bounded whatever the backlog.
 *
 * <p>Only a hint for choosing the path of a row, never a rule: a false positive (about 1 in 100 new
 * keys, or a key whose batch was rolled back) costs an index lookup; a false negative (a key
 * committed before the filter was cleared, before a restart, or by another node) makes the fast
 * path's COPY meet a unique violation, and that batch's table falls back to the staging path. Not
 * thread-safe: used by the planner (or, without one, the flusher) only.
 */
public final class KeyBloom implements KeySet {
  private final long[] words;
  private final int blockMask;
  private final long capacity;
  private long size;
  private long clears;

  /** @param log2Bytes the filter has {@code 2^log2Bytes} bytes; it holds about 0.8 key per byte. */
  public KeyBloom(int log2Bytes) {
    if (log2Bytes < 6 || log2Bytes > 30) {
      throw new IllegalArgumentException("log2Bytes out of range: " + log2Bytes);
    }
    words = new long[1 << (log2Bytes - 3)];
    blockMask = (words.length >>> 3) - 1;
    capacity = Math.max(1, (long) words.length * 64 / 10);
  }

  @Override
  public boolean contains(long h) {
    int base = block(h);
    long x = h;
    for (int i = 0; i < 8; i++) {
      x = step(x);
      if ((words[base + i] & (1L << (x >>> 58))) == 0) {
        return false;
      }
    }
    return true;
  }

  /** Adds the key; a key the filter already (maybe) holds is not counted again. */
  @Override
  public void add(long h) {
    if (contains(h)) {
      return;
    }
    if (size >= capacity) {
      clear();
      clears++;
    }
    int base = block(h);
    long x = h;
    for (int i = 0; i < 8; i++) {
      x = step(x);
      words[base + i] |= 1L << (x >>> 58);
    }
    size++;
  }

  public void clear() {
    Arrays.fill(words, 0L);
    size = 0;
  }

  /** Keys added since the last clear. */
  public long size() {
    return size;
  }

  public long capacity() {
    return capacity;
  }

  /** How many times the filter was full and cleared. */
  public long clears() {
    return clears;
  }

  private int block(long h) {
    return ((int) (h >>> 32) & blockMask) << 3;
  }

  private static long step(long x) {
    x *= 0x9E3779B97F4A7C15L;
    return x ^ (x >>> 29);
  }
}
