package io.logtail.binlog;

/** Base of the binlog's checked-free failures: every binlog failure is one of these, with a message for an operator. */
public class BinlogException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public BinlogException(String message) {
        super(message);
    }

    public BinlogException(String message, Throwable cause) {
        super(message, cause);
    }
}
