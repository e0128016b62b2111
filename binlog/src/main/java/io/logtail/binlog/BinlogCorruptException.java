package io.logtail.binlog;

/** An encoded record (or a binlog file) does not decode: bad CRC, unknown version, truncated or malformed fields. */
public class BinlogCorruptException extends BinlogException {
    private static final long serialVersionUID = 1L;

    public BinlogCorruptException(String message) {
        super(message);
    }

    public BinlogCorruptException(String message, Throwable cause) {
        super(message, cause);
    }
}
