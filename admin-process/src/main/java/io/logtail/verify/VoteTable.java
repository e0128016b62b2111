package io.logtail.verify;

/**
 * The counted vote of every (ballot, voter) seen so far, in flat primitive arrays (open addressing,
 * linear probing): the full 32-byte voter, the ballot id, a 64-bit hash of the counted vote's eid and
 * the duplicate attempts. About 50 bytes per key, no object per key, so that millions of voters fit.
 */
final class VoteTable {
  static final long NO_EID = 0;

  private long[] k0;
  private long[] k1;
  private long[] k2;
  private long[] k3;
  private int[] ballot;
  private long[] eid;
  private int[] attempts;
  private boolean[] used;
  private int size;
  private int mask;

  VoteTable(int expected) {
    int cap = 1024;
    while (cap * 0.7 < expected) cap <<= 1;
    alloc(cap);
  }

  private void alloc(int cap) {
    k0 = new long[cap];
    k1 = new long[cap];
    k2 = new long[cap];
    k3 = new long[cap];
    ballot = new int[cap];
    eid = new long[cap];
    attempts = new int[cap];
    used = new boolean[cap];
    mask = cap - 1;
    size = 0;
  }

  int size() { return size; }

  int capacity() { return mask + 1; }

  static long le64(byte[] b, int i) {
    return (b[i] & 0xFFL) | (b[i + 1] & 0xFFL) << 8 | (b[i + 2] & 0xFFL) << 16
        | (b[i + 3] & 0xFFL) << 24 | (b[i + 4] & 0xFFL) << 32 | (b[i + 5] & 0xFFL) << 40
        | (b[i + 6] & 0xFFL) << 48 | (b[i + 7] & 0xFFL) << 56;
  }

  private static int hash(int b, long a0, long a1) {
    long h = a0 * 0x9E3779B97F4A7C15L ^ a1 ^ ((long) b * 0xC2B2AE3D27D4EB4FL);
    h ^= h >>> 33;
    h *= 0xFF51AFD7ED558CCDL;
    h ^= h >>> 33;
    return (int) h;
  }

  /** Slot of the key, or -(insertion point) - 1 when absent. */
  private int find(int b, long a0, long a1, long a2, long a3) {
    int i = hash(b, a0, a1) & mask;
    while (used[i]) {
      if (k0[i] == a0 && k1[i] == a1 && k2[i] == a2 && k3[i] == a3 && ballot[i] == b) return i;
      i = (i + 1) & mask;
    }
    return -i - 1;
  }

  /** The slot of (ballot, voter), or -1. */
  int get(int b, byte[] voter) {
    int i = find(b, le64(voter, 0), le64(voter, 8), le64(voter, 16), le64(voter, 24));
    return i >= 0 ? i : -1;
  }

  /** Inserts an absent key with its counted eid hash; returns its slot. */
  int put(int b, byte[] voter, long eidHash) {
    return put(b, le64(voter, 0), le64(voter, 8), le64(voter, 16), le64(voter, 24), eidHash);
  }

  private int put(int b, long a0, long a1, long a2, long a3, long eidHash) {
    if (size + 1 > (mask + 1) * 0.7) grow();
    int i = find(b, a0, a1, a2, a3);
    if (i >= 0) return i;
    i = -i - 1;
    used[i] = true;
    k0[i] = a0;
    k1[i] = a1;
    k2[i] = a2;
    k3[i] = a3;
    ballot[i] = b;
    eid[i] = eidHash;
    size++;
    return i;
  }

  long eidHash(int slot) { return eid[slot]; }

  void addAttempt(int slot) { attempts[slot]++; }

  int attempts(int slot) { return attempts[slot]; }

  void setAttempts(int slot, int n) { attempts[slot] = n; }

  int ballotAt(int slot) { return ballot[slot]; }

  boolean used(int slot) { return used[slot]; }

  /** Voter bytes of a slot as 64 hex digits, for reports. */
  String voterHex(int slot) {
    StringBuilder sb = new StringBuilder(64);
    for (long w : new long[] {k0[slot], k1[slot], k2[slot], k3[slot]}) {
      for (int j = 0; j < 8; j++) {
        sb.append(String.format("%02x", (w >>> (8 * j)) & 0xFF));
      }
    }
    return sb.toString();
  }

  private void grow() {
    long[] o0 = k0, o1 = k1, o2 = k2, o3 = k3, oe = eid;
    int[] ob = ballot, oa = attempts;
    boolean[] ou = used;
    alloc((mask + 1) * 2);
    for (int i = 0; i < ou.length; i++) {
      if (ou[i]) {
        int s = put(ob[i], o0[i], o1[i], o2[i], o3[i], oe[i]);
        attempts[s] = oa[i];
      }
    }
  }
}
