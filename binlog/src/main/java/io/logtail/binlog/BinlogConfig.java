package io.logtail.binlog;

import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * How a {@link Binlog} is opened. Immutable; start from {@link #defaults()} and use the {@code with...} methods.
 *
 * <ul>
 *   <li>{@code roll}: how often a new cycle file starts (default {@link Roll#DAILY}); {@link Binlog#prune} deletes
 *       whole cycle files.</li>
 *   <li>{@code syncEveryRecords}: {@link Binlog#append} syncs after this many unsynced records (0 = never by
 *       count; default 0).</li>
 *   <li>{@code syncEvery}: {@link Binlog#append} and {@link Binlog#syncIfDue()} sync when the oldest unsynced
 *       record is this old (default 1 s; {@link Duration#ZERO} = sync on every append). The caller is expected to
 *       call {@code syncIfDue()} from a timer so that a quiet binlog is synced too. {@link Binlog#close()} always
 *       syncs.</li>
 *   <li>{@code minFreeBytes}: an append refuses (with {@link BinlogWriteException}) when the file system has less
 *       usable space than this (default 64 MiB). Chronicle writes through memory-mapped sparse files, where running
 *       out of space would show up as a SIGBUS inside the JVM rather than as an IOException, so the binlog checks
 *       first. A negative value turns the check off (for tests of what happens without it: the fault in the
 *       mapped page still ends as a {@link BinlogWriteException}, but the binlog must then be reopened).</li>
 *   <li>{@code readOnly}: open for reading only: no lock is taken and {@code append} is refused. Readers may run
 *       while a writer appends.</li>
 *   <li>{@code clock}: the wall clock for roll cycles (the day a cycle file is named after) and prune (tests
 *       move it).</li>
 *   <li>{@code headerTimeout}: how long Chronicle waits for an incomplete header (default 10 s).</li>
 *   <li>{@code nanoTime}: the monotonic clock of the sync cadence ({@code System::nanoTime} by default). The
 *       cadence is an interval, so it must not follow the wall clock: set back an hour, a wall clock would stop
 *       the syncs for that hour; set forward, it would only sync early.</li>
 * </ul>
 */
public final class BinlogConfig {
    /** Roll cycle of the cycle files. Chronicle's FAST_HOURLY, FAST_DAILY and WEEKLY. */
    public enum Roll { HOURLY, DAILY, WEEKLY }

    private final Roll roll;
    private final int syncEveryRecords;
    private final Duration syncEvery;
    private final long minFreeBytes;
    private final boolean readOnly;
    private final Clock clock;
    private final LongSupplier nanoTime;
    private final Duration headerTimeout;

    private BinlogConfig(Roll roll, int syncEveryRecords, Duration syncEvery, long minFreeBytes, boolean readOnly,
                         Clock clock, LongSupplier nanoTime, Duration headerTimeout) {
        this.roll = Objects.requireNonNull(roll, "roll");
        if (syncEveryRecords < 0) {
            throw new IllegalArgumentException("syncEveryRecords < 0");
        }
        this.syncEveryRecords = syncEveryRecords;
        this.syncEvery = Objects.requireNonNull(syncEvery, "syncEvery");
        if (syncEvery.isNegative()) {
            throw new IllegalArgumentException("syncEvery < 0");
        }
        this.minFreeBytes = minFreeBytes;
        this.readOnly = readOnly;
        this.clock = Objects.requireNonNull(clock, "clock");
        this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
        this.headerTimeout = Objects.requireNonNull(headerTimeout, "headerTimeout");
        if (headerTimeout.isNegative() || headerTimeout.isZero()) {
            throw new IllegalArgumentException("headerTimeout <= 0");
        }
    }

    public static BinlogConfig defaults() {
        return new BinlogConfig(Roll.DAILY, 0, Duration.ofSeconds(1), 64L << 20, false, Clock.systemUTC(), System::nanoTime,
                Duration.ofSeconds(10));
    }

    public BinlogConfig withRoll(Roll r) {
        return new BinlogConfig(r, syncEveryRecords, syncEvery, minFreeBytes, readOnly, clock, nanoTime, headerTimeout);
    }

    public BinlogConfig withSyncEveryRecords(int n) {
        return new BinlogConfig(roll, n, syncEvery, minFreeBytes, readOnly, clock, nanoTime, headerTimeout);
    }

    public BinlogConfig withSyncEvery(Duration d) {
        return new BinlogConfig(roll, syncEveryRecords, d, minFreeBytes, readOnly, clock, nanoTime, headerTimeout);
    }

    public BinlogConfig withMinFreeBytes(long n) {
        return new BinlogConfig(roll, syncEveryRecords, syncEvery, n, readOnly, clock, nanoTime, headerTimeout);
    }

    public BinlogConfig withReadOnly(boolean ro) {
        return new BinlogConfig(roll, syncEveryRecords, syncEvery, minFreeBytes, ro, clock, nanoTime, headerTimeout);
    }

    public BinlogConfig withClock(Clock c) {
        return new BinlogConfig(roll, syncEveryRecords, syncEvery, minFreeBytes, readOnly, c, nanoTime, headerTimeout);
    }

    /** The monotonic clock (nanoseconds, as {@link System#nanoTime()}) of the sync cadence. */
    public BinlogConfig withNanoTime(LongSupplier t) {
        return new BinlogConfig(roll, syncEveryRecords, syncEvery, minFreeBytes, readOnly, clock, t, headerTimeout);
    }

    /**
     * How long Chronicle waits for a document header that is not complete (a writer in the middle of an append, or
     * a damaged or empty cycle file) before it gives up or recovers the header; Chronicle's default, 10 s. Each
     * access to a damaged cycle file can wait this long (measured by {@code BinlogReaderFuzzTest}), which sets it
     * low to fuzz quickly.
     */
    public BinlogConfig withHeaderTimeout(Duration d) {
        return new BinlogConfig(roll, syncEveryRecords, syncEvery, minFreeBytes, readOnly, clock, nanoTime, d);
    }

    public Duration headerTimeout() {
        return headerTimeout;
    }

    public Roll roll() {
        return roll;
    }

    public int syncEveryRecords() {
        return syncEveryRecords;
    }

    public Duration syncEvery() {
        return syncEvery;
    }

    public long minFreeBytes() {
        return minFreeBytes;
    }

    public boolean readOnly() {
        return readOnly;
    }

    public Clock clock() {
        return clock;
    }

    public LongSupplier nanoTime() {
        return nanoTime;
    }

    @Override
    public String toString() {
        return "BinlogConfig{roll=" + roll + ", syncEveryRecords=" + syncEveryRecords + ", syncEvery=" + syncEvery
                + ", minFreeBytes=" + minFreeBytes + ", readOnly=" + readOnly + '}';
    }
}
