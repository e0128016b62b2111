package io.logtail.binlog;

/** Appending or syncing failed (disk full, read-only file system, I/O error). The record may not be durable. */
public class BinlogWriteException extends BinlogException {
    private static final long serialVersionUID = 1L;

    public BinlogWriteException(String message) {
        super(message);
    }

    public BinlogWriteException(String message, Throwable cause) {
        super(message, cause);
    }
}
