package io.logtail.binlog;

/** What a {@link BinlogRecord} stands for. The code is the byte written in the encoded record. */
public enum RecordKind {
    /** A batch committed to the database in the normal course of tailing. */
    BATCH(0),
    /**
     * Appended during recovery when the database was ahead of the binlog (a batch was committed but the
     * process died before the binlog got it): the record is rebuilt from the database's own bookkeeping.
     */
    HEAL(1),
    /**
     * The database was restored behind the binlog: batches {@code rewindFromBatchId .. rewindToBatchId} recorded
     * here are no longer in the database and will be re-read.
     */
    REWIND(2);

    private final int code;

    RecordKind(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** @return the kind for a code, or {@code null} when the code is unknown */
    public static RecordKind fromCode(int code) {
        for (RecordKind k : values()) {
            if (k.code == code) {
                return k;
            }
        }
        return null;
    }
}
