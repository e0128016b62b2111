package io.logtail.flush;

import io.logtail.aggregate.Batch;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * The in-memory half of the fast path: decides, for every vote and canvass row of a batch, how it goes
 * in, by reading the batch's binary COPY buffers (no re-encoding; rows are sent as byte ranges of
 * those buffers).
 *
 * <ul>
 *   <li>Votes are grouped by their exact key (ballot_id, voter). The first row of a key in the batch
 *       (log order) is {@link #FIRST}: it is COPYed straight into {@code votes}. A later row of that
 *       key is a {@link #RETRANSMIT} when it has an eid equal to the first row's, else a
 *       {@link #DUPLICATE}; both are counted here, in memory, as the staging path's SQL would.</li>
 *   <li>A key whose hash is in the node's {@link KeyHints} (probably committed by an earlier batch)
 *       sends all its rows of the batch to the general staging path ({@link #STAGED}), which decides
 *       against the table.</li>
 *   <li>Canvass records likewise on their eid: first row {@link #FIRST}, later ones {@link #RESEND}.</li>
 *   <li>Tallies (ballot, choice), locality cells and duplicate rows of the {@code FIRST} rows are
 *       aggregated here, to be upserted as a few rows.</li>
 * </ul>
 * When the database has reference data (ballots or a voter roll) every vote goes to the staging path.
 * One instance per writer, reused from batch to batch (flusher thread only).
 */
final class BatchPlan {
  static final byte FIRST = 0;
  static final byte RETRANSMIT = 1;
  static final byte DUPLICATE = 2;
  static final byte RESEND = 3;
  static final byte STAGED = 4;

  /** Signature, flags and header extension length of a binary COPY stream. */
  static final int HEADER_BYTES = 19;

  private static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);
  private static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);

  // ---- votes: per row
  byte[] vb;
  int nv;
  /** Row start offsets; vRow[nv] is the end of the last row (the trailer's offset). */
  int[] vRow = new int[1024];
  private int[] vChoice = new int[1024];
  private int[] vEid = new int[1024];
  private int[] vTime = new int[1024];
  byte[] vRoute = new byte[1024];
  private long[] vHash = new long[1024];
  int fastVotes;
  int stagedVotes;
  int duplicates;
  int retransmits;
  // vote key groups
  private final Table vKeys = new Table();
  private boolean[] gStaged = new boolean[1024];
  private int[] gAttempts = new int[1024];
  private long[] gMin = new long[1024];
  private long[] gMax = new long[1024];
  private final Table tally = new Table();
  private int[] tallyCount = new int[64];

  // ---- canvass: per row
  byte[] cb;
  int nc;
  int[] cRow = new int[1024];
  private int[] cEid = new int[1024];
  private int[] cKind = new int[1024];
  private int[] cCell = new int[1024];
  private int[] cIssue = new int[1024];
  private int[] cStance = new int[1024];
  byte[] cRoute = new byte[1024];
  private long[] cHash = new long[1024];
  int fastCanvass;
  int stagedCanvass;
  int resends;
  private final Table cKeys = new Table();
  private final Table cells = new Table();
  private int[] cellCount = new int[1024];

  private final int[] fields = new int[16];
  private final RowEq voteKeyEq = this::sameVoteKey;
  private final RowEq tallyKeyEq = this::sameTallyKey;
  private final RowEq eidEq = this::sameEid;
  private final RowEq cellEq = this::sameCell;

  /**
   * Plans the batch.
   *
   * @param votesStaged every vote goes to the staging path (reference data is loaded)
   */
  void build(Batch batch, boolean votesStaged, KeyHints voteHints, KeyHints canvassHints) {
    planVotes(batch.voteRows(), batch.votes(), votesStaged, voteHints);
    planCanvass(batch.canvassRows(), batch.canvass(), canvassHints);
  }

  // ------------------------------------------------------------------------------------------ votes

  private void planVotes(CopyBuffer buf, int rows, boolean allStaged, KeyHints hints) {
    vb = buf.array();
    nv = rows;
    fastVotes = stagedVotes = duplicates = retransmits = 0;
    if (vRow.length < rows + 1) {
      int n = Math.max(rows + 1, vRow.length * 2);
      vRow = new int[n];
      vChoice = new int[n];
      vEid = new int[n];
      vTime = new int[n];
      vRoute = new byte[n];
      vHash = new long[n];
    }
    int p = HEADER_BYTES;
    for (int i = 0; i < rows; i++) {
      vRow[i] = p;
      p = walk(vb, p, fields);
      vChoice[i] = fields[2];
      vEid[i] = fields[3];
      vTime[i] = fields[4];
      // ballot_id's and voter's length words and data: 4+4+4+32 bytes from p+2
      vHash[i] = hash(vb, vRow[i] + 2, 44, 0x5bd1e995L);
    }
    vRow[rows] = p;
    tally.reset(16);
    if (allStaged) {
      Arrays.fill(vRoute, 0, rows, STAGED);
      stagedVotes = rows;
      vKeys.reset(16);
      return;
    }
    vKeys.reset(rows);
    for (int i = 0; i < rows; i++) {
      int g = vKeys.find(vHash[i], i, voteKeyEq);
      if (vKeys.added) {
        if (g >= gStaged.length) {
          int n = Math.max(g + 1, gStaged.length * 2);
          gStaged = Arrays.copyOf(gStaged, n);
          gAttempts = Arrays.copyOf(gAttempts, n);
          gMin = Arrays.copyOf(gMin, n);
          gMax = Arrays.copyOf(gMax, n);
        }
        boolean staged = hints.contains(vHash[i]);
        gStaged[g] = staged;
        gAttempts[g] = 0;
        if (staged) {
          vRoute[i] = STAGED;
          stagedVotes++;
        } else {
          vRoute[i] = FIRST;
          fastVotes++;
        }
      } else if (gStaged[g]) {
        vRoute[i] = STAGED;
        stagedVotes++;
      } else {
        int first = vKeys.rep[g];
        if (readInt(vb, vEid[i]) >= 0 && sameField(vb, vEid[i], vEid[first])) {
          vRoute[i] = RETRANSMIT;
          retransmits++;
        } else {
          vRoute[i] = DUPLICATE;
          duplicates++;
          long t = (long) LONG.get(vb, vTime[i] + 4);
          if (gAttempts[g]++ == 0) {
            gMin[g] = t;
            gMax[g] = t;
          } else {
            gMin[g] = Math.min(gMin[g], t);
            gMax[g] = Math.max(gMax[g], t);
          }
        }
      }
    }
    for (int i = 0; i < rows; i++) {
      if (vRoute[i] == FIRST) {
        int p0 = vRow[i] + 2;
        long h = hash(vb, p0, 8, 17) ^ hash(vb, vChoice[i], 4 + fieldLength(vb, vChoice[i]), 31);
        int g = tally.find(h, i, tallyKeyEq);
        if (tally.added) {
          if (g >= tallyCount.length) {
            tallyCount = Arrays.copyOf(tallyCount, Math.max(g + 1, tallyCount.length * 2));
          }
          tallyCount[g] = 0;
        }
        tallyCount[g]++;
      }
    }
  }

  /** The fast COPY into votes hit a key committed elsewhere: every vote goes to the staging path. */
  void fallbackVotes() {
    Arrays.fill(vRoute, 0, nv, STAGED);
    stagedVotes = nv;
    fastVotes = duplicates = retransmits = 0;
    vKeys.reset(16);
    tally.reset(16);
  }

  private boolean sameVoteKey(int a, int b) {
    return Arrays.equals(vb, vRow[a] + 2, vRow[a] + 46, vb, vRow[b] + 2, vRow[b] + 46);
  }

  private boolean sameTallyKey(int a, int b) {
    return Arrays.equals(vb, vRow[a] + 2, vRow[a] + 10, vb, vRow[b] + 2, vRow[b] + 10)
        && sameField(vb, vChoice[a], vChoice[b]);
  }

  /** Rows for {@code vote_tally_parts}: ballot_id, choice, votes. */
  int writeTallies(CopyBuffer out) {
    for (int g = 0; g < tally.n; g++) {
      int r = tally.rep[g];
      out.row(3).raw(vb, vRow[r] + 2, 8).raw(vb, vChoice[r], 4 + fieldLength(vb, vChoice[r])).int8(tallyCount[g]);
    }
    return tally.n;
  }

  /** Rows for {@code vote_duplicate_rows}: ballot_id, voter, attempts, first_seen, last_seen. */
  int writeDuplicates(CopyBuffer out) {
    int n = 0;
    for (int g = 0; g < vKeys.n; g++) {
      if (!gStaged[g] && gAttempts[g] > 0) {
        int r = vKeys.rep[g];
        out.row(5).raw(vb, vRow[r] + 2, 44).int8(gAttempts[g]).int8(gMin[g]).int8(gMax[g]);
        n++;
      }
    }
    return n;
  }

  // ---------------------------------------------------------------------------------------- canvass

  private void planCanvass(CopyBuffer buf, int rows, KeyHints hints) {
    cb = buf.array();
    nc = rows;
    fastCanvass = stagedCanvass = resends = 0;
    if (cRow.length < rows + 1) {
      int n = Math.max(rows + 1, cRow.length * 2);
      cRow = new int[n];
      cEid = new int[n];
      cKind = new int[n];
      cCell = new int[n];
      cIssue = new int[n];
      cStance = new int[n];
      cRoute = new byte[n];
      cHash = new long[n];
    }
    int p = HEADER_BYTES;
    for (int i = 0; i < rows; i++) {
      cRow[i] = p;
      p = walk(cb, p, fields);
      cEid[i] = fields[0];
      cKind[i] = fields[1];
      cCell[i] = fields[6];
      cIssue[i] = fields[8];
      cStance[i] = fields[9];
      cHash[i] = hash(cb, cEid[i], 4 + fieldLength(cb, cEid[i]), 0x27d4eb2fL);
    }
    cRow[rows] = p;
    cKeys.reset(rows);
    for (int i = 0; i < rows; i++) {
      int g = cKeys.find(cHash[i], i, eidEq);
      if (cKeys.added) {
        if (hints.contains(cHash[i])) {
          cRoute[i] = STAGED;
          stagedCanvass++;
        } else {
          cRoute[i] = FIRST;
          fastCanvass++;
        }
      } else if (cRoute[cKeys.rep[g]] == STAGED) {
        cRoute[i] = STAGED;
        stagedCanvass++;
      } else {
        cRoute[i] = RESEND;
        resends++;
      }
    }
    planCells();
  }

  private void planCells() {
    cells.reset(Math.max(16, fastCanvass));
    for (int i = 0; i < nc; i++) {
      if (cRoute[i] == FIRST) {
        long h = hash(cb, cCell[i], 16, 7);
        h = h * 31 + hash(cb, cKind[i], 4 + fieldLength(cb, cKind[i]), 11);
        h = h * 31 + hashOptional(cb, cIssue[i], 13);
        h = h * 31 + hashOptional(cb, cStance[i], 19);
        int g = cells.find(h, i, cellEq);
        if (cells.added) {
          if (g >= cellCount.length) {
            cellCount = Arrays.copyOf(cellCount, Math.max(g + 1, cellCount.length * 2));
          }
          cellCount[g] = 0;
        }
        cellCount[g]++;
      }
    }
  }

  /** The fast COPY into canvass_records hit an eid committed elsewhere: all go to the staging path. */
  void fallbackCanvass() {
    Arrays.fill(cRoute, 0, nc, STAGED);
    stagedCanvass = nc;
    fastCanvass = resends = 0;
    cells.reset(16);
  }

  private boolean sameEid(int a, int b) {
    return sameField(cb, cEid[a], cEid[b]);
  }

  private boolean sameCell(int a, int b) {
    return Arrays.equals(cb, cCell[a], cCell[a] + 16, cb, cCell[b], cCell[b] + 16)
        && sameField(cb, cKind[a], cKind[b])
        && sameOptional(cb, cIssue[a], cIssue[b])
        && sameOptional(cb, cStance[a], cStance[b]);
  }

  /** Rows for {@code canvass_cell_parts}: cell_lat, cell_lon, kind, issue, stance ('' for NULL), records. */
  int writeCells(CopyBuffer out) {
    for (int g = 0; g < cells.n; g++) {
      int r = cells.rep[g];
      out.row(6).raw(cb, cCell[r], 16).raw(cb, cKind[r], 4 + fieldLength(cb, cKind[r]));
      optional(out, cb, cIssue[r]);
      optional(out, cb, cStance[r]);
      out.int8(cellCount[g]);
    }
    return cells.n;
  }

  // ---------------------------------------------------------------------------------- after commit

  /** Remembers the batch's keys as committed (call after the commit succeeded). */
  void remember(KeyHints voteHints, KeyHints canvassHints) {
    for (int i = 0; i < nv; i++) {
      if (vRoute[i] == FIRST || vRoute[i] == STAGED) {
        voteHints.add(vHash[i]);
      }
    }
    for (int i = 0; i < nc; i++) {
      if (cRoute[i] == FIRST || cRoute[i] == STAGED) {
        canvassHints.add(cHash[i]);
      }
    }
  }

  // ---------------------------------------------------------------------------------------- helpers

  /** Reads one row at {@code p}: offsets of each field's length word into {@code f}; returns the next row. */
  private static int walk(byte[] b, int p, int[] f) {
    int n = ((b[p] & 0xff) << 8) | (b[p + 1] & 0xff);
    p += 2;
    for (int k = 0; k < n; k++) {
      f[k] = p;
      int len = readInt(b, p);
      p += 4 + Math.max(len, 0);
    }
    return p;
  }

  static int readInt(byte[] b, int p) {
    return (int) INT.get(b, p);
  }

  /** Length of the field whose length word is at {@code p}; 0 for NULL. */
  private static int fieldLength(byte[] b, int p) {
    return Math.max(readInt(b, p), 0);
  }

  /** Same length word (NULL included) and same bytes. */
  private static boolean sameField(byte[] b, int x, int y) {
    int lx = readInt(b, x);
    if (lx != readInt(b, y)) {
      return false;
    }
    int n = Math.max(lx, 0);
    return Arrays.equals(b, x + 4, x + 4 + n, b, y + 4, y + 4 + n);
  }

  /** NULL and '' are the same (the cell rows coalesce NULL to ''). */
  private static boolean sameOptional(byte[] b, int x, int y) {
    int lx = fieldLength(b, x);
    int ly = fieldLength(b, y);
    return lx == ly && Arrays.equals(b, x + 4, x + 4 + lx, b, y + 4, y + 4 + ly);
  }

  private static long hashOptional(byte[] b, int p, long seed) {
    int n = fieldLength(b, p);
    return hash(b, p + 4, n, seed);
  }

  private static void optional(CopyBuffer out, byte[] b, int p) {
    int n = fieldLength(b, p);
    out.bytes(b, p + 4, n);
  }

  /** A 64-bit hash of {@code b[off, off+len)}. */
  static long hash(byte[] b, int off, int len, long seed) {
    long h = seed * 0x9E3779B97F4A7C15L + len;
    int i = 0;
    for (; i + 8 <= len; i += 8) {
      h = Long.rotateLeft((h ^ (long) LONG.get(b, off + i)) * 0x9E3779B97F4A7C15L, 27);
    }
    long t = 0;
    for (; i < len; i++) {
      t = (t << 8) | (b[off + i] & 0xff);
    }
    h = (h ^ t) * 0xC2B2AE3D27D4EB4FL;
    h ^= h >>> 33;
    h *= 0xFF51AFD7ED558CCDL;
    h ^= h >>> 33;
    h *= 0xC4CEB9FE1A85EC53L;
    h ^= h >>> 33;
    return h;
  }

  interface RowEq {
    boolean same(int a, int b);
  }

  /** Open addressing from a row's key hash to its group (the first row with that exact key). */
  static final class Table {
    private int[] slots = new int[32];
    private int mask = 31;
    private long[] hashes = new long[16];
    int[] rep = new int[16];
    int n;
    boolean added;

    void reset(int expected) {
      int cap = Integer.highestOneBit(Math.max(16, expected) * 2 - 1) << 1;
      if (slots.length < cap || slots.length > cap * 8) {
        slots = new int[cap];
      } else {
        Arrays.fill(slots, 0);
      }
      mask = slots.length - 1;
      n = 0;
    }

    int find(long h, int row, RowEq eq) {
      if (n * 2 >= slots.length) {
        grow();
      }
      for (int i = (int) (h ^ (h >>> 32)) & mask; ; i = (i + 1) & mask) {
        int s = slots[i];
        if (s == 0) {
          if (n == rep.length) {
            rep = Arrays.copyOf(rep, n * 2);
            hashes = Arrays.copyOf(hashes, n * 2);
          }
          rep[n] = row;
          hashes[n] = h;
          slots[i] = ++n;
          added = true;
          return n - 1;
        }
        int g = s - 1;
        if (hashes[g] == h && eq.same(rep[g], row)) {
          added = false;
          return g;
        }
      }
    }

    private void grow() {
      slots = new int[slots.length * 2];
      mask = slots.length - 1;
      for (int g = 0; g < n; g++) {
        long h = hashes[g];
        int i = (int) (h ^ (h >>> 32)) & mask;
        while (slots[i] != 0) {
          i = (i + 1) & mask;
        }
        slots[i] = g + 1;
      }
    }
  }
}
