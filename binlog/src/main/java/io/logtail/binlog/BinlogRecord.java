package io.logtail.binlog;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;

/**
 * One binlog record: what one committed database batch covered. Immutable.
 *
 * <p>Limits (checked here, and again by the decoder): {@code node} at most {@value #MAX_NODE_BYTES} UTF-8 bytes,
 * each path at most {@value #MAX_PATH_BYTES} UTF-8 bytes, at most {@value #MAX_RANGES} ranges, batch ids and
 * rewind ids non-negative. Only a {@link RecordKind#REWIND} record carries rewind ids (both 0 otherwise).
 *
 * @param kind              normal batch, heal or rewind
 * @param batchId           the batch id, increasing per node (the binlog does not enforce the order)
 * @param node              the node (worker) that committed the batch
 * @param commitTimeMicros  wall-clock time of the database commit, microseconds since the epoch
 * @param ranges            the byte ranges committed by the batch (empty for a REWIND)
 * @param counts            what the batch held
 * @param rewindFromBatchId REWIND only: the last batch id the binlog had before the rewind
 * @param rewindToBatchId   REWIND only: the last batch id the restored database has
 */
public record BinlogRecord(RecordKind kind, long batchId, String node, long commitTimeMicros, List<Range> ranges,
                           Counts counts, long rewindFromBatchId, long rewindToBatchId) {

    public static final int MAX_NODE_BYTES = 1024;
    public static final int MAX_PATH_BYTES = 16384;
    public static final int MAX_RANGES = 65536;

    public BinlogRecord {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(node, "node");
        Objects.requireNonNull(counts, "counts");
        ranges = List.copyOf(Objects.requireNonNull(ranges, "ranges"));
        if (batchId < 0) {
            throw new IllegalArgumentException("negative batchId " + batchId);
        }
        if (node.getBytes(StandardCharsets.UTF_8).length > MAX_NODE_BYTES) {
            throw new IllegalArgumentException("node name longer than " + MAX_NODE_BYTES + " bytes");
        }
        if (ranges.size() > MAX_RANGES) {
            throw new IllegalArgumentException("more than " + MAX_RANGES + " ranges in one record");
        }
        for (Range r : ranges) {
            if (r.path().getBytes(StandardCharsets.UTF_8).length > MAX_PATH_BYTES) {
                throw new IllegalArgumentException("path longer than " + MAX_PATH_BYTES + " bytes");
            }
        }
        if (kind == RecordKind.REWIND) {
            if (rewindFromBatchId < 0 || rewindToBatchId < 0) {
                throw new IllegalArgumentException("negative rewind batch id");
            }
        } else if (rewindFromBatchId != 0 || rewindToBatchId != 0) {
            throw new IllegalArgumentException("only a REWIND record carries rewind batch ids");
        }
    }

    /** A normal committed batch. */
    public static BinlogRecord batch(long batchId, String node, long commitTimeMicros, List<Range> ranges,
                                     Counts counts) {
        return new BinlogRecord(RecordKind.BATCH, batchId, node, commitTimeMicros, ranges, counts, 0, 0);
    }

    /** A record appended during recovery, when the database was ahead of the binlog. */
    public static BinlogRecord heal(long batchId, String node, long commitTimeMicros, List<Range> ranges,
                                    Counts counts) {
        return new BinlogRecord(RecordKind.HEAL, batchId, node, commitTimeMicros, ranges, counts, 0, 0);
    }

    /** The database was restored behind the binlog: batches after {@code toBatchId} up to {@code fromBatchId} are gone. */
    public static BinlogRecord rewind(long batchId, String node, long commitTimeMicros, long fromBatchId,
                                      long toBatchId) {
        return new BinlogRecord(RecordKind.REWIND, batchId, node, commitTimeMicros, List.of(), Counts.ZERO,
                fromBatchId, toBatchId);
    }
}
