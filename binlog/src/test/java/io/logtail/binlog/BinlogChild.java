package io.logtail.binlog;

import java.nio.file.Path;
import java.time.Duration;

/**
 * The child JVM of the crash, lock and disk-full tests. Modes:
 * <ul>
 *   <li>{@code append DIR SYNC_EVERY}: appends records from {@code last()+1} on forever, syncs every SYNC_EVERY,
 *       prints {@code running} after the first sync and {@code synced N} after each sync (N = last batch id).</li>
 *   <li>{@code torn DIR}: appends records 1..5, then leaves half of a 6th document behind and halts.</li>
 *   <li>{@code hold DIR}: opens the binlog, prints {@code holding}, waits for stdin to end.</li>
 *   <li>{@code fill DIR MINFREE}: appends until an append fails, prints what failed, checks an append after the
 *       failure is refused, frees space (deletes a ballast file), reopens the binlog as writer and appends one more
 *       record, then reads the binlog back read-only.</li>
 * </ul>
 */
public final class BinlogChild {
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[1]);
        switch (args[0]) {
            case "append" -> append(dir, Integer.parseInt(args[2]));
            case "hold" -> hold(dir);
            case "fill" -> fill(dir, Long.parseLong(args[2]));
            case "torn" -> torn(dir);
            default -> throw new IllegalArgumentException(args[0]);
        }
    }

    private static void append(Path dir, int syncEvery) {
        try (Binlog b = Binlog.open(dir, BinlogConfig.defaults().withSyncEvery(Duration.ofDays(1)))) {
            long id = b.last().map(BinlogRecord::batchId).orElse(0L);
            boolean announced = false;
            while (true) {
                id++;
                b.append(TestRecords.batch(id));
                if (id % syncEvery == 0) {
                    b.sync();
                    if (!announced) {
                        System.out.println("running");
                        announced = true;
                    }
                    System.out.println("synced " + id);
                    System.out.flush();
                }
            }
        }
    }

    /** Appends 5 records, then starts a 6th document straight through Chronicle, writes half of it and halts. */
    private static void torn(Path dir) {
        try (Binlog b = Binlog.open(dir, BinlogConfig.defaults())) {
            for (int i = 1; i <= 5; i++) {
                b.append(TestRecords.batch(i));
            }
        }
        net.openhft.chronicle.queue.impl.single.SingleChronicleQueue q =
                net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder.binary(dir)
                        .rollCycle(net.openhft.chronicle.queue.RollCycles.FAST_DAILY).build();
        net.openhft.chronicle.queue.ExcerptAppender appender = q.createAppender();
        net.openhft.chronicle.wire.DocumentContext dc = appender.writingDocument();
        byte[] whole = BinlogCodec.encode(TestRecords.batch(6));
        dc.wire().bytes().write(whole, 0, whole.length / 2);
        System.out.println("torn");
        System.out.flush();
        Runtime.getRuntime().halt(9);
    }

    private static void hold(Path dir) throws Exception {
        try (Binlog b = Binlog.open(dir, BinlogConfig.defaults())) {
            b.append(TestRecords.batch(1));
            b.sync();
            System.out.println("holding pid " + ProcessHandle.current().pid());
            System.out.flush();
            while (System.in.read() >= 0) {
                // wait for the parent to close stdin
            }
        }
    }

    private static void fill(Path dir, long minFree) throws java.io.IOException {
        long appended = 0;
        java.nio.file.Files.createDirectories(dir);
        Path ballast = dir.getParent().resolve("ballast");
        java.nio.file.Files.write(ballast, new byte[512 * 1024]);
        Binlog b = Binlog.open(dir, BinlogConfig.defaults().withMinFreeBytes(minFree));
        try {
            while (true) {
                b.append(TestRecords.batch(appended + 1));
                appended++;
            }
        } catch (BinlogWriteException e) {
            Throwable root = e;
            while (root.getCause() != null) {
                root = root.getCause();
            }
            System.out.println("FAILED " + e.getClass().getName() + " after " + appended + ": " + e.getMessage()
                    + " | root " + root.getClass().getName());
        } catch (Throwable t) {
            System.out.println("UNEXPECTED " + t);
        }
        try {
            b.append(TestRecords.batch(appended + 1));
            System.out.println("NOT_REFUSED");
        } catch (BinlogWriteException e) {
            System.out.println("REFUSED " + e.getMessage());
        }
        try {
            b.close();
        } catch (BinlogException e) {
            System.out.println("CLOSE_FAILED " + e.getMessage());
        }
        // the operator frees space: the binlog opens again, its last record is the last one appended, and it
        // takes the next record
        java.nio.file.Files.delete(ballast);
        try (Binlog w = Binlog.open(dir, BinlogConfig.defaults().withMinFreeBytes(minFree))) {
            long last = w.last().map(BinlogRecord::batchId).orElse(-1L);
            System.out.println("REOPENED last " + last);
            w.append(TestRecords.batch(last + 1));
        } catch (Throwable t) {
            System.out.println("REOPEN_FAILED " + t);
        }
        long n = 0;
        try (Binlog r = Binlog.open(dir, BinlogConfig.defaults().withReadOnly(true));
             Binlog.BinlogCursor c = r.read(BinlogFilter.all())) {
            while (c.hasNext()) {
                BinlogEntry e = c.next();
                if (e.record().batchId() != n + 1) {
                    System.out.println("GAP at " + n);
                }
                n++;
            }
            System.out.println("READBACK " + n + " of " + (appended + 1));
        } catch (Throwable t) {
            System.out.println("READBACK_FAILED " + t);
        }
        System.out.flush();
    }
}
