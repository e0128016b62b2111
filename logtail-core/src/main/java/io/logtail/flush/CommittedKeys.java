package io.logtail.flush;

import java.util.Arrays;

/**
 * The exact keys of the batch this writer committed last, and what the database holds for each of
 * them since that commit: for every vote key (ballot_id, voter) the eid of the counted vote (or none),
 * and every canvass eid. It answers, without a query, the lookups of the next batch's keys that were
 * also in that batch (the "deferred" keys: the planner could not look them up ahead, because that
 * batch was not committed yet), which otherwise sat on the flusher's critical path inside the next
 * batch's transaction.
 *
 * <p>Why it is exact: the batch committed, so its fast path's outcome is in the database: a vote key
 * whose first row was COPYed into {@code votes} is counted with that row's eid (the primary key keeps
 * anyone else from counting it; rows are never deleted), and a key found there by a lookup is counted
 * with the eid the lookup read. Every canvass eid of the batch is in {@code canvass_records} (COPYed,
 * or found). Keys are compared byte for byte (the 64-bit hashes only find candidates). A table that
 * took the staging path in that batch is not recorded (its outcome is the database's; reference data
 * may have rejected votes), and its keys are looked up as before. {@link #seq} ties the record to the
 * batch's planning order: it is used only by the batch planned right after it (see
 * {@link BatchWriter#write}); a key it does not hold is looked up in the database.
 *
 * <p>Used by the flusher thread only: {@link BatchWriter#write} fills a spare one before the commit
 * and makes it the current one only after the commit succeeded.
 */
final class CommittedKeys {
  /** The planning sequence number of the batch recorded; -1 for none. */
  long seq = -1;
  boolean votes;
  boolean canvass;

  // vote keys: 44 bytes each (ballot_id's and voter's length words and data, as in the COPY row)
  private byte[] keys = new byte[44 * 1024];
  private long[] keyHash = new long[1024];
  /** Offset in {@link #eidBytes} of the counted vote's eid, and its length (-1: no eid). */
  private int[] eidOff = new int[1024];
  private int[] eidLen = new int[1024];
  private byte[] eidBytes = new byte[16 * 1024];
  private int nKeys;
  private int eidEnd;
  private int[] keySlots = new int[2048];

  // canvass eids: the field's bytes (length word and data)
  private byte[] cBytes = new byte[16 * 1024];
  private int[] cOff = new int[1024];
  private long[] cHash = new long[1024];
  private int nEids;
  private int cEnd;
  private int[] eidSlots = new int[2048];

  void clear(long seq) {
    this.seq = seq;
    votes = false;
    canvass = false;
    nKeys = 0;
    eidEnd = 0;
    nEids = 0;
    cEnd = 0;
  }

  /** Adds a vote key (44 bytes of {@code b} at {@code p}) counted with eid {@code b[e, e+len)} (len -1: none). */
  void addVote(long h, byte[] b, int p, byte[] eb, int e, int len) {
    if (nKeys == keyHash.length) {
      int n = nKeys * 2;
      keyHash = Arrays.copyOf(keyHash, n);
      eidOff = Arrays.copyOf(eidOff, n);
      eidLen = Arrays.copyOf(eidLen, n);
      keys = Arrays.copyOf(keys, n * 44);
    }
    System.arraycopy(b, p, keys, nKeys * 44, 44);
    keyHash[nKeys] = h;
    eidLen[nKeys] = len;
    eidOff[nKeys] = eidEnd;
    if (len > 0) {
      if (eidEnd + len > eidBytes.length) {
        eidBytes = Arrays.copyOf(eidBytes, Math.max(eidEnd + len, eidBytes.length * 2));
      }
      System.arraycopy(eb, e, eidBytes, eidEnd, len);
      eidEnd += len;
    }
    nKeys++;
  }

  /** Adds a canvass eid: the field at {@code b[p]} (length word, then {@code len} bytes). */
  void addEid(long h, byte[] b, int p, int len) {
    if (nEids == cHash.length) {
      cHash = Arrays.copyOf(cHash, nEids * 2);
      cOff = Arrays.copyOf(cOff, nEids * 2);
    }
    if (cEnd + 4 + len > cBytes.length) {
      cBytes = Arrays.copyOf(cBytes, Math.max(cEnd + 4 + len, cBytes.length * 2));
    }
    System.arraycopy(b, p, cBytes, cEnd, 4 + len);
    cOff[nEids] = cEnd;
    cHash[nEids] = h;
    cEnd += 4 + len;
    nEids++;
  }

  /** Builds the hash indexes; call after the adds. */
  void index() {
    keySlots = slots(keySlots, nKeys, keyHash);
    eidSlots = slots(eidSlots, nEids, cHash);
  }

  private static int[] slots(int[] s, int n, long[] hashes) {
    int cap = Integer.highestOneBit(Math.max(16, n) * 2 - 1) << 1;
    if (s.length < cap || s.length > cap * 8) {
      s = new int[cap];
    } else {
      Arrays.fill(s, 0);
    }
    int mask = s.length - 1;
    for (int i = 0; i < n; i++) {
      int j = spread(hashes[i]) & mask;
      while (s[j] != 0) {
        j = (j + 1) & mask;
      }
      s[j] = i + 1;
    }
    return s;
  }

  /** The index of the vote key equal to the 44 bytes of {@code b} at {@code p}, or -1. */
  int findVote(long h, byte[] b, int p) {
    if (!votes) {
      return -1;
    }
    int mask = keySlots.length - 1;
    for (int j = spread(h) & mask; ; j = (j + 1) & mask) {
      int s = keySlots[j];
      if (s == 0) {
        return -1;
      }
      int i = s - 1;
      if (keyHash[i] == h && Arrays.equals(keys, i * 44, i * 44 + 44, b, p, p + 44)) {
        return i;
      }
    }
  }

  /** The eid of the vote counted for key {@code i} (a copy), or null when it has none. */
  byte[] eid(int i) {
    int len = eidLen[i];
    return len < 0 ? null : Arrays.copyOfRange(eidBytes, eidOff[i], eidOff[i] + len);
  }

  /** Whether the eid field at {@code b[p]} (length word, then data) is one of the batch's. */
  boolean hasEid(long h, byte[] b, int p) {
    if (!canvass) {
      return false;
    }
    int len = BatchPlan.readInt(b, p);
    if (len < 0) {
      return false;
    }
    int mask = eidSlots.length - 1;
    for (int j = spread(h) & mask; ; j = (j + 1) & mask) {
      int s = eidSlots[j];
      if (s == 0) {
        return false;
      }
      int i = s - 1;
      int o = cOff[i];
      if (cHash[i] == h && Arrays.equals(cBytes, o, o + 4 + len, b, p, p + 4 + len)) {
        return true;
      }
    }
  }

  int voteKeys() {
    return votes ? nKeys : 0;
  }

  int eids() {
    return canvass ? nEids : 0;
  }

  private static int spread(long h) {
    return (int) (h ^ (h >>> 32));
  }
}
