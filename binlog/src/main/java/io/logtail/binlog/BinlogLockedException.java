package io.logtail.binlog;

/** Another process (or another {@link Binlog} in this one) already writes this binlog directory. */
public class BinlogLockedException extends BinlogException {
    private static final long serialVersionUID = 1L;

    public BinlogLockedException(String message) {
        super(message);
    }
}
