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
 *   <li>A key whose hash is in the node's hints ({@link KeyBloom}: probably committed by an earlier
 *       batch) is looked up in {@code votes}; when it is there, every row of the batch
 *       with that key is a later vote of the counted one, classified against the counted vote's eid
 *       ({@link #resolveVotes}); when it is not (a false positive), the key is treated as new.</li>
 *   <li>Canvass records likewise on their eid: first row {@link #FIRST}, later ones (or all, when
 *       the eid is already in {@code canvass_records}) {@link #RESEND}.</li>
 *   <li>Tallies (ballot, choice) of the {@code FIRST} votes and the duplicate rows are aggregated
 *       here, to be upserted as a few rows.</li>
 *   <li>{@link #STAGED}: every vote when the database has reference data (ballots or a voter roll),
 *       and every row of a table whose fast COPY met a key committed elsewhere; the general staging
 *       path decides for them.</li>
 * </ul>
 * One instance per batch object (its attachment), reused with it. Public for the JMH benchmark.
 */
public final class BatchPlan {
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
  private int[] vGroup = new int[1024];
  byte[] vRoute = new byte[1024];
  private long[] vHash = new long[1024];
  int fastVotes;
  int stagedVotes;

  public int fastVotes() {
    return fastVotes;
  }

  public int fastCanvass() {
    return fastCanvass;
  }

  int duplicates;
  int retransmits;
  private boolean votesStaged;
  // vote key groups
  private final Table vKeys = new Table();
  /** Groups whose key hash is in the hints: candidates for the lookup. */
  private int[] hintedVoteGroups = new int[256];
  /** Whether the hinted key is one of the previous batch's (looked up inside the transaction). */
  private boolean[] voteDeferred = new boolean[256];
  /** Whether the hinted key was answered by the previous batch's {@link CommittedKeys} (no lookup). */
  private boolean[] voteResolved = new boolean[256];
  int nHintedVotes;
  /** For hinted groups found in votes: the counted vote's eid (null if it has none). */
  private byte[][] gExistingEid = new byte[1024][];
  private boolean[] gExisting = new boolean[1024];
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
  private int[] cGroup = new int[1024];
  byte[] cRoute = new byte[1024];
  private long[] cHash = new long[1024];
  int fastCanvass;
  int stagedCanvass;
  int resends;
  private final Table cKeys = new Table();
  private int[] hintedCanvassGroups = new int[256];
  private boolean[] canvassDeferred = new boolean[256];
  private boolean[] canvassResolved = new boolean[256];
  int nHintedCanvass;
  private boolean canvassStaged;
  private boolean[] gExistingC = new boolean[1024];

  private final int[] fields = new int[16];
  private long[] sortKeys = new long[256];
  private final RowEq voteKeyEq = this::sameVoteKey;
  private final RowEq tallyKeyEq = this::sameTallyKey;
  private final RowEq eidEq = this::sameEid;

  /** Set when the plan is grouped and its prefetch done; cleared after the batch committed. */
  volatile boolean ready;
  /** The {@link Batch#generation()} this plan was made for. */
  int generation = -1;
  /** Planning order: set by {@link BatchWriter#plan} when the batch is grouped. */
  long seq = -1;

  boolean readyFor(Batch b) {
    return ready && generation == b.generation();
  }

  /**
   * Groups the batch's rows by key and sorts out the keys to look up: those of the previous batch
   * (which may not be committed yet: looked up later, inside the batch's transaction, "deferred") and
   * those the hints know from earlier batches (committed: they may be looked up ahead, on another
   * connection). Then adds every key of the batch to the hints, and puts them in {@code next*} (the
   * previous batch's keys for the next batch).
   * {@link #resolveVotes} and {@link #resolveCanvass} route every row after the lookups.
   */
  public void group(Batch batch, KeySet voteHints, KeySet canvassHints, KeyHints prevVotes, KeyHints prevCanvass,
      KeyHints nextVotes, KeyHints nextCanvass) {
    groupVotes(batch.voteRows(), batch.votes(), voteHints, prevVotes);
    groupCanvass(batch.canvassRows(), batch.canvass(), canvassHints, prevCanvass);
    nextVotes.clear();
    for (int g = 0; g < vKeys.n; g++) {
      voteHints.add(vKeys.hashes[g]);
      nextVotes.add(vKeys.hashes[g]);
    }
    nextCanvass.clear();
    for (int g = 0; g < cKeys.n; g++) {
      canvassHints.add(cKeys.hashes[g]);
      nextCanvass.add(cKeys.hashes[g]);
    }
  }

  // ------------------------------------------------------------------------------------------ votes

  private void groupVotes(CopyBuffer buf, int rows, KeySet hints, KeyHints prev) {
    vb = buf.array();
    nv = rows;
    votesStaged = false;
    fastVotes = stagedVotes = duplicates = retransmits = 0;
    nHintedVotes = 0;
    if (vRow.length < rows + 1) {
      int n = Math.max(rows + 1, vRow.length * 2);
      vRow = new int[n];
      vChoice = new int[n];
      vEid = new int[n];
      vTime = new int[n];
      vGroup = new int[n];
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
      // ballot_id's and voter's length words and data: 4+4+4+32 bytes from the row's start + 2
      vHash[i] = hash(vb, vRow[i] + 2, 44, VOTE_SEED);
    }
    vRow[rows] = p;
    tally.reset(16);
    vKeys.reset(rows);
    for (int i = 0; i < rows; i++) {
      int g = vKeys.find(vHash[i], i, voteKeyEq);
      vGroup[i] = g;
      if (vKeys.added) {
        if (g >= gExisting.length) {
          int n = Math.max(g + 1, gExisting.length * 2);
          gExisting = Arrays.copyOf(gExisting, n);
          gExistingEid = Arrays.copyOf(gExistingEid, n);
          gAttempts = Arrays.copyOf(gAttempts, n);
          gMin = Arrays.copyOf(gMin, n);
          gMax = Arrays.copyOf(gMax, n);
        }
        gExisting[g] = false;
        gExistingEid[g] = null;
        gAttempts[g] = 0;
        boolean deferred = prev.contains(vHash[i]);
        if (deferred || hints.contains(vHash[i])) {
          if (nHintedVotes == hintedVoteGroups.length) {
            hintedVoteGroups = Arrays.copyOf(hintedVoteGroups, nHintedVotes * 2);
            voteDeferred = Arrays.copyOf(voteDeferred, nHintedVotes * 2);
            voteResolved = Arrays.copyOf(voteResolved, nHintedVotes * 2);
          }
          voteDeferred[nHintedVotes] = deferred;
          voteResolved[nHintedVotes] = false;
          hintedVoteGroups[nHintedVotes++] = g;
        }
      }
    }
  }

  /**
   * Rows (k, ballot_id, voter) of the hinted vote keys for the lookup, in index order (ballot, then
   * voter) so that the index probes walk the index forward.
   */
  int writeHintedVoteKeys(CopyBuffer out, boolean deferred) {
    int n = 0;
    if (sortKeys.length < nHintedVotes) {
      sortKeys = new long[Math.max(nHintedVotes, sortKeys.length * 2)];
    }
    boolean sortable = nHintedVotes <= 0xFFFFF;
    for (int k = 0; k < nHintedVotes; k++) {
      if (voteDeferred[k] != deferred || voteResolved[k]) {
        continue;
      }
      int p = vRow[vKeys.rep[hintedVoteGroups[k]]];
      long ballot = readInt(vb, p + 6) & 0x7FFFFL;
      long voterPrefix = ((vb[p + 14] & 0xffL) << 16) | ((vb[p + 15] & 0xffL) << 8) | (vb[p + 16] & 0xffL);
      sortKeys[n++] = sortable ? (ballot << 44) | (voterPrefix << 20) | k : k;
    }
    Arrays.sort(sortKeys, 0, n);
    for (int j = 0; j < n; j++) {
      int k = (int) (sortable ? sortKeys[j] & 0xFFFFF : sortKeys[j]);
      int p = vRow[vKeys.rep[hintedVoteGroups[k]]];
      out.row(3).int4(k).raw(vb, p + 2, 44);
    }
    return n;
  }

  /** The lookup found the k-th hinted key in votes; its counted vote has this eid (or null). */
  void voteExists(int k, byte[] eid) {
    int g = hintedVoteGroups[k];
    gExisting[g] = true;
    gExistingEid[g] = eid;
  }

  /** Routes every vote: call after {@link #voteExists} for the keys found. */
  public void resolveVotes() {
    fastVotes = stagedVotes = duplicates = retransmits = 0;
    tally.reset(16);
    if (votesStaged) {
      Arrays.fill(vRoute, 0, nv, STAGED);
      stagedVotes = nv;
      return;
    }
    Arrays.fill(gAttempts, 0, vKeys.n, 0);
    for (int i = 0; i < nv; i++) {
      int g = vGroup[i];
      boolean retransmit;
      if (gExisting[g]) {
        byte[] e = gExistingEid[g];
        int len = readInt(vb, vEid[i]);
        retransmit = e != null && len == e.length
            && Arrays.equals(vb, vEid[i] + 4, vEid[i] + 4 + len, e, 0, e.length);
      } else {
        int first = vKeys.rep[g];
        if (first == i) {
          vRoute[i] = FIRST;
          fastVotes++;
          continue;
        }
        retransmit = readInt(vb, vEid[i]) >= 0 && sameField(vb, vEid[i], vEid[first]);
      }
      if (retransmit) {
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
    tally.reset(16);
    for (int i = 0; i < nv; i++) {
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

  /**
   * Every vote goes to the staging path: reference data is loaded, or the fast COPY into votes hit a
   * key committed elsewhere.
   */
  void fallbackVotes() {
    votesStaged = true;
    resolveVotes();
  }

  boolean votesStaged() {
    return votesStaged;
  }

  boolean canvassStaged() {
    return canvassStaged;
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
    if (votesStaged) {
      return 0;
    }
    for (int g = 0; g < tally.n; g++) {
      int r = tally.rep[g];
      out.row(3).raw(vb, vRow[r] + 2, 8).raw(vb, vChoice[r], 4 + fieldLength(vb, vChoice[r])).int8(tallyCount[g]);
    }
    return tally.n;
  }

  /** Rows for {@code vote_duplicate_rows}: ballot_id, voter, attempts, first_seen, last_seen. */
  int writeDuplicates(CopyBuffer out) {
    int n = 0;
    if (votesStaged) {
      return 0;
    }
    for (int g = 0; g < vKeys.n; g++) {
      if (gAttempts[g] > 0) {
        int r = vKeys.rep[g];
        out.row(5).raw(vb, vRow[r] + 2, 44).int8(gAttempts[g]).int8(gMin[g]).int8(gMax[g]);
        n++;
      }
    }
    return n;
  }

  // ---------------------------------------------------------------------------------------- canvass

  private void groupCanvass(CopyBuffer buf, int rows, KeySet hints, KeyHints prev) {
    cb = buf.array();
    nc = rows;
    canvassStaged = false;
    fastCanvass = stagedCanvass = resends = 0;
    nHintedCanvass = 0;
    if (cRow.length < rows + 1) {
      int n = Math.max(rows + 1, cRow.length * 2);
      cRow = new int[n];
      cEid = new int[n];
      cGroup = new int[n];
      cRoute = new byte[n];
      cHash = new long[n];
    }
    int p = HEADER_BYTES;
    for (int i = 0; i < rows; i++) {
      cRow[i] = p;
      p = walk(cb, p, fields);
      cEid[i] = fields[0];
      cHash[i] = hash(cb, cEid[i], 4 + fieldLength(cb, cEid[i]), EID_SEED);
    }
    cRow[rows] = p;
    cKeys.reset(rows);
    for (int i = 0; i < rows; i++) {
      int g = cKeys.find(cHash[i], i, eidEq);
      cGroup[i] = g;
      if (cKeys.added) {
        if (g >= gExistingC.length) {
          gExistingC = Arrays.copyOf(gExistingC, Math.max(g + 1, gExistingC.length * 2));
        }
        gExistingC[g] = false;
        boolean deferred = prev.contains(cHash[i]);
        if (deferred || hints.contains(cHash[i])) {
          if (nHintedCanvass == hintedCanvassGroups.length) {
            hintedCanvassGroups = Arrays.copyOf(hintedCanvassGroups, nHintedCanvass * 2);
            canvassDeferred = Arrays.copyOf(canvassDeferred, nHintedCanvass * 2);
            canvassResolved = Arrays.copyOf(canvassResolved, nHintedCanvass * 2);
          }
          canvassDeferred[nHintedCanvass] = deferred;
          canvassResolved[nHintedCanvass] = false;
          hintedCanvassGroups[nHintedCanvass++] = g;
        }
      }
    }
  }

  /** Drops what lookups found (they failed half-way). */
  void forgetLookups() {
    Arrays.fill(gExisting, 0, vKeys.n, false);
    Arrays.fill(gExistingEid, 0, vKeys.n, null);
    Arrays.fill(gExistingC, 0, cKeys.n, false);
  }

  /** Every hinted key is looked up inside the transaction (no lookup ahead). */
  void deferAll() {
    Arrays.fill(voteDeferred, 0, nHintedVotes, true);
    Arrays.fill(canvassDeferred, 0, nHintedCanvass, true);
  }

  /** Whether the k-th hinted eid is one of the previous batch's (looked up inside the transaction). */
  boolean canvassDeferred(int k) {
    return canvassDeferred[k];
  }

  /**
   * Whether the k-th hinted eid is to be looked up ahead ({@code deferred} false) or inside the
   * transaction ({@code deferred} true: one of the previous batch's not answered by
   * {@link #resolveDeferred}).
   */
  boolean canvassToLookUp(int k, boolean deferred) {
    return deferred ? canvassDeferred[k] && !canvassResolved[k] : !canvassDeferred[k];
  }

  /**
   * Answers the deferred keys (those of the previous batch) that {@code last}, the exact keys of the
   * batch committed just before this one, holds: such a vote key is counted with the eid recorded
   * there, such an eid is in canvass_records. The others are left to the lookup in the transaction.
   *
   * @return how many keys were answered
   */
  int resolveDeferred(CommittedKeys last) {
    int n = 0;
    for (int k = 0; k < nHintedVotes; k++) {
      if (voteDeferred[k] && !voteResolved[k]) {
        int g = hintedVoteGroups[k];
        int r = vKeys.rep[g];
        int i = last.findVote(vKeys.hashes[g], vb, vRow[r] + 2);
        if (i >= 0) {
          voteExists(k, last.eid(i));
          voteResolved[k] = true;
          n++;
        }
      }
    }
    for (int k = 0; k < nHintedCanvass; k++) {
      if (canvassDeferred[k] && !canvassResolved[k]) {
        int g = hintedCanvassGroups[k];
        if (last.hasEid(cKeys.hashes[g], cb, cEid[cKeys.rep[g]])) {
          canvassExists(k);
          canvassResolved[k] = true;
          n++;
        }
      }
    }
    return n;
  }

  /**
   * Records this batch's keys and their outcome into {@code out} (see {@link CommittedKeys}); call
   * when the batch's rows are written, before its commit. A table that took the staging path is not
   * recorded.
   */
  void record(CommittedKeys out) {
    out.clear(seq);
    if (!votesStaged) {
      for (int g = 0; g < vKeys.n; g++) {
        int r = vKeys.rep[g];
        if (gExisting[g]) {
          byte[] e = gExistingEid[g];
          out.addVote(vKeys.hashes[g], vb, vRow[r] + 2, e, 0, e == null ? -1 : e.length);
        } else {
          out.addVote(vKeys.hashes[g], vb, vRow[r] + 2, vb, vEid[r] + 4, readInt(vb, vEid[r]));
        }
      }
      out.votes = true;
    }
    if (!canvassStaged) {
      for (int g = 0; g < cKeys.n; g++) {
        int p = cEid[cKeys.rep[g]];
        out.addEid(cKeys.hashes[g], cb, p, fieldLength(cb, p));
      }
      out.canvass = true;
    }
    out.index();
  }

  /** Whether the k-th hinted vote key is one of the previous batch's. */
  boolean voteDeferred(int k) {
    return voteDeferred[k];
  }

  /** The k-th hinted canvass eid. */
  String hintedEid(int k) {
    int p = cEid[cKeys.rep[hintedCanvassGroups[k]]];
    return new String(cb, p + 4, fieldLength(cb, p), java.nio.charset.StandardCharsets.UTF_8);
  }

  /** The lookup found the k-th hinted eid in canvass_records. */
  void canvassExists(int k) {
    gExistingC[hintedCanvassGroups[k]] = true;
  }

  /** Routes every canvass row: call after {@link #canvassExists} for the eids found. */
  public void resolveCanvass() {
    fastCanvass = stagedCanvass = resends = 0;
    if (canvassStaged) {
      Arrays.fill(cRoute, 0, nc, STAGED);
      stagedCanvass = nc;
      return;
    }
    for (int i = 0; i < nc; i++) {
      int g = cGroup[i];
      if (!gExistingC[g] && cKeys.rep[g] == i) {
        cRoute[i] = FIRST;
        fastCanvass++;
      } else {
        cRoute[i] = RESEND;
        resends++;
      }
    }
  }

  /** The fast COPY into canvass_records hit an eid committed elsewhere: all go to the staging path. */
  void fallbackCanvass() {
    canvassStaged = true;
    resolveCanvass();
  }

  private boolean sameEid(int a, int b) {
    return sameField(cb, cEid[a], cEid[b]);
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

  private static final long VOTE_SEED = 0x5bd1e995L;
  private static final long EID_SEED = 0x27d4eb2fL;

  /** The hint hash of a vote key, as the plan computes it from a row. */
  static long voteKeyHash(int ballotId, byte[] voter) {
    CopyBuffer b = new CopyBuffer(64);
    b.int4(ballotId).bytes(voter, 0, 32);
    return hash(b.array(), HEADER_BYTES, 44, VOTE_SEED);
  }

  /** The hint hash of a canvass eid, as the plan computes it from a row. */
  static long eidHash(byte[] eid) {
    CopyBuffer b = new CopyBuffer(64);
    b.bytes(eid, 0, eid.length);
    return hash(b.array(), HEADER_BYTES, 4 + eid.length, EID_SEED);
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
    long[] hashes = new long[16];
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
