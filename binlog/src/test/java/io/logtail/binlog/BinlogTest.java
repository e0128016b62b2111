package io.logtail.binlog;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.Optional;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BinlogTest {
    @TempDir
    Path dir;

    static List<BinlogRecord> readAll(Binlog b, BinlogFilter f) {
        List<BinlogRecord> out = new ArrayList<>();
        try (Binlog.BinlogCursor c = b.read(f)) {
            c.forEachRemaining(e -> out.add(e.record()));
        }
        return out;
    }

    static List<Long> ids(List<BinlogRecord> rs) {
        return rs.stream().map(BinlogRecord::batchId).toList();
    }

    @Test
    void appendReadReopenLast() {
        List<BinlogRecord> written = new ArrayList<>(BinlogCodecTest.samples());
        for (int i = 10; i < 200; i++) {
            written.add(TestRecords.batch(i));
        }
        try (Binlog b = Binlog.open(dir, BinlogConfig.defaults())) {
            assertEquals(Optional.empty(), b.last());
            for (BinlogRecord r : written) {
                b.append(r);
            }
            assertEquals(written, readAll(b, BinlogFilter.all()));
            assertEquals(Optional.of(written.get(written.size() - 1)), b.last());
        }
        try (Binlog b = Binlog.open(dir, BinlogConfig.defaults())) {
            assertEquals(written, readAll(b, BinlogFilter.all()));
            LastScan scan = b.scanLast();
            assertTrue(scan.clean());
            assertEquals(written.get(written.size() - 1), scan.last().orElseThrow());
            b.append(TestRecords.batch(200));
            assertEquals(200, b.last().orElseThrow().batchId());
        }
        try (Binlog r = Binlog.open(dir, BinlogConfig.defaults().withReadOnly(true))) {
            assertEquals(written.size() + 1, readAll(r, BinlogFilter.all()).size());
            assertThrows(BinlogException.class, () -> r.append(TestRecords.batch(201)));
        }
    }

    @Test
    void syncCadenceByCountAndTime() {
        MutableClock clock = new MutableClock(Instant.parse("2026-01-01T10:00:00Z"));
        AtomicLong nanos = new AtomicLong(5_000_000_000L);
        try (Binlog b = Binlog.open(dir, BinlogConfig.defaults().withClock(clock).withNanoTime(nanos::get)
                .withSyncEveryRecords(3).withSyncEvery(Duration.ofSeconds(1)))) {
            b.append(TestRecords.batch(1));
            b.append(TestRecords.batch(2));
            assertEquals(2, b.unsyncedCount());
            b.append(TestRecords.batch(3));
            assertEquals(0, b.unsyncedCount(), "synced by count");
            b.append(TestRecords.batch(4));
            assertFalse(b.syncIfDue());
            nanos.addAndGet(1_000_000_000L);
            assertTrue(b.syncIfDue(), "synced by time");
            assertEquals(0, b.unsyncedCount());
            b.append(TestRecords.batch(5));
            nanos.addAndGet(2_000_000_000L);
            b.append(TestRecords.batch(6));
            assertEquals(0, b.unsyncedCount(), "append syncs when the oldest unsynced record is due");
            b.append(TestRecords.batch(7));
            assertEquals(1, b.unsyncedCount());
        }
    }

    /**
     * The wall clock set back (an hour, then a day: across midnight, into the previous day's cycle) and forward
     * while appending: the sync cadence follows the monotonic clock only (neither stalls nor syncs on every append),
     * every append lands and reads back once, in order, and the last record is the last appended.
     */
    @Test
    void wallClockJumpsBackAndForth() {
        MutableClock clock = new MutableClock(Instant.parse("2026-03-02T00:30:00Z"));
        AtomicLong nanos = new AtomicLong(0);
        try (Binlog b = Binlog.open(dir, BinlogConfig.defaults().withClock(clock).withNanoTime(nanos::get)
                .withSyncEvery(Duration.ofSeconds(1)))) {
            b.append(TestRecords.batch(1));
            assertEquals(1, b.unsyncedCount());
            clock.advance(Duration.ofHours(-1));          // back, across midnight: 2026-03-01T23:30
            b.append(TestRecords.batch(2));
            assertEquals(2, b.unsyncedCount(), "no sync: only 0 s of monotonic time passed");
            nanos.addAndGet(1_000_000_000L);
            assertTrue(b.syncIfDue(), "synced 1 s (monotonic) after the first unsynced record, clock set back or not");
            b.append(TestRecords.batch(3));
            clock.advance(Duration.ofDays(-1));           // back a whole day
            b.append(TestRecords.batch(4));
            assertFalse(b.syncIfDue(), "a day back on the wall clock is no reason to stall, nor to sync");
            nanos.addAndGet(999_000_000L);
            assertFalse(b.syncIfDue());
            nanos.addAndGet(1_000_000L);
            assertTrue(b.syncIfDue());
            clock.advance(Duration.ofDays(3));            // forward
            b.append(TestRecords.batch(5));
            assertEquals(1, b.unsyncedCount(), "a wall clock set forward does not force a sync");
            assertEquals(5, b.last().orElseThrow().batchId());
        }
        // a new writer (a restart) with the clock a week behind the last cycle file
        clock.advance(Duration.ofDays(-7));
        try (Binlog b = Binlog.open(dir, BinlogConfig.defaults().withClock(clock))) {
            b.append(TestRecords.batch(6));
            assertEquals(6, b.last().orElseThrow().batchId());
        }
        try (Binlog r = Binlog.open(dir, BinlogConfig.defaults().withReadOnly(true))) {
            assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L),
                    readAll(r, BinlogFilter.all()).stream().map(BinlogRecord::batchId).toList());
        }
    }

    /** The binlog directory deleted under an open writer: the next append says so, and later ones are refused. */
    @Test
    void directoryDeletedUnderTheWriter() throws Exception {
        Path d = dir.resolve("deleted");
        try (Binlog b = Binlog.open(d, BinlogConfig.defaults().withSyncEveryRecords(1000)
                .withSyncEvery(Duration.ofHours(1)))) {
            b.append(TestRecords.batch(1));
            b.sync();
            try (var files = Files.walk(d)) {
                for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
            BinlogWriteException e = assertThrows(BinlogWriteException.class, () -> b.append(TestRecords.batch(2)));
            assertTrue(e.getMessage().contains("was deleted or replaced while this worker wrote to it"), e.getMessage());
            assertTrue(e.getMessage().contains("rebuilds the binlog's missing records from the database"), e.getMessage());
            assertThrows(BinlogWriteException.class, () -> b.append(TestRecords.batch(3)));
            assertThrows(BinlogWriteException.class, b::sync);
        }
    }

    @Test
    void filters() {
        try (Binlog b = Binlog.open(dir, BinlogConfig.defaults())) {
            for (int i = 1; i <= 20; i++) {
                String node = i % 2 == 0 ? "even" : "odd";
                b.append(BinlogRecord.batch(i, node, TestRecords.T0 + i * 1_000_000L,
                        List.of(new Range(i % 3, 1, i, i <= 10 ? "/logs/a.log" : "/logs/b.log", 0, i)),
                        Counts.ZERO));
            }
            b.append(BinlogRecord.rewind(21, "odd", TestRecords.T0 + 21_000_000L, 20, 5));
            assertEquals(List.of(5L, 6L, 7L), ids(readAll(b, BinlogFilter.all().batches(5, 7))));
            assertEquals(List.of(3L, 4L), ids(readAll(b, BinlogFilter.all().timeMicros(
                    TestRecords.T0 + 3_000_000L, TestRecords.T0 + 5_000_000L))));
            assertEquals(List.of(19L, 20L, 21L), ids(readAll(b, BinlogFilter.all().time(
                    Instant.ofEpochSecond(TestRecords.T0 / 1_000_000L + 19), null))));
            assertEquals(10, readAll(b, BinlogFilter.all().node("even")).size());
            assertEquals(List.of(11L, 13L, 15L, 17L, 19L), ids(readAll(b, BinlogFilter.all().node("odd")
                    .pathContains("b.log"))));
            assertEquals(List.of(3L, 6L, 9L, 12L, 15L, 18L), ids(readAll(b, BinlogFilter.all().fingerprint(0L))));
            assertEquals(List.of(3L, 6L, 9L), ids(readAll(b, BinlogFilter.all().fingerprint(0L)
                    .pathContains("a.log"))));
            assertEquals(List.of(21L), ids(readAll(b, BinlogFilter.all().kinds(EnumSet.of(RecordKind.REWIND)))));
            assertEquals(List.of(), ids(readAll(b, BinlogFilter.all().pathContains("nowhere"))));
        }
    }

    /** Finds the encoded payload of {@code r} in the cycle files and flips one byte in its middle. */
    private void corrupt(BinlogRecord r) throws IOException {
        byte[] needle = BinlogCodec.encode(r);
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".cq4")).toList()) {
                try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
                    byte[] head = new byte[1 << 20];
                    raf.readFully(head);
                    int at = indexOf(head, needle);
                    if (at >= 0) {
                        int victim = at + needle.length / 2;
                        raf.seek(victim);
                        raf.write(head[victim] ^ 0x5a);
                        return;
                    }
                }
            }
        }
        throw new AssertionError("record not found in the cycle files");
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    @Test
    void corruptLastRecordIsReportedAndSkippedByLast() throws IOException {
        try (Binlog b = Binlog.open(dir, BinlogConfig.defaults())) {
            for (int i = 1; i <= 10; i++) {
                b.append(TestRecords.batch(i));
            }
        }
        corrupt(TestRecords.batch(10));
        corrupt(TestRecords.batch(9));
        try (Binlog b = Binlog.open(dir, BinlogConfig.defaults())) {
            LastScan scan = b.scanLast();
            assertFalse(scan.clean());
            assertEquals(2, scan.badRecords());
            assertEquals(2L * BinlogCodec.encode(TestRecords.batch(10)).length, scan.badBytes());
            assertTrue(scan.problems().get(0).contains("CRC32C mismatch"), scan.problems().toString());
            assertEquals(8, scan.last().orElseThrow().batchId());
            assertEquals(8, b.last().orElseThrow().batchId());
        }
    }

    @Test
    void corruptMiddleRecordFailsReadOrIsSkippedAndCounted() throws IOException {
        try (Binlog b = Binlog.open(dir, BinlogConfig.defaults())) {
            for (int i = 1; i <= 10; i++) {
                b.append(TestRecords.batch(i));
            }
        }
        corrupt(TestRecords.batch(5));
        try (Binlog b = Binlog.open(dir, BinlogConfig.defaults())) {
            List<Long> seen = new ArrayList<>();
            try (Binlog.BinlogCursor c = b.read(BinlogFilter.all())) {
                BinlogCorruptException e = assertThrows(BinlogCorruptException.class,
                        () -> c.forEachRemaining(x -> seen.add(x.record().batchId())));
                assertTrue(e.getMessage().contains("corrupt") && e.getMessage().contains("CRC32C"), e.getMessage());
            }
            assertEquals(List.of(1L, 2L, 3L, 4L), seen, "nothing after the bad document is returned as garbage");
            try (Binlog.BinlogCursor c = b.read(BinlogFilter.all(), true)) {
                List<Long> got = new ArrayList<>();
                c.forEachRemaining(x -> got.add(x.record().batchId()));
                assertEquals(List.of(1L, 2L, 3L, 4L, 6L, 7L, 8L, 9L, 10L), got);
                assertEquals(1, c.corruptSkipped());
            }
            assertEquals(10, b.last().orElseThrow().batchId());
        }
    }

    @Test
    void pruneDeletesWholeOldCyclesButNeverTheCurrentOne() throws IOException {
        MutableClock clock = new MutableClock(Instant.parse("2026-03-01T12:00:00Z"));
        BinlogConfig cfg = BinlogConfig.defaults().withClock(clock);
        long id = 0;
        try (Binlog b = Binlog.open(dir, cfg)) {
            for (int day = 0; day < 4; day++) {
                for (int i = 0; i < 3; i++) {
                    id++;
                    b.append(TestRecords.batch(id, "n", clock.millis() * 1000));
                }
                if (day < 3) {
                    clock.advance(Duration.ofDays(1));
                }
            }
            assertEquals(4, cycleFiles().size(), cycleFiles().toString());
            // now 2026-03-04T12:00Z; keep one day: 03-01 and 03-02 end before 03-03T12:00 and go
            List<Path> deleted = b.prune(Duration.ofDays(1));
            assertEquals(List.of("20260301F.cq4", "20260302F.cq4"),
                    deleted.stream().map(p -> p.getFileName().toString()).sorted().toList());
            assertEquals(List.of("20260303F.cq4", "20260304F.cq4"), cycleFiles());
            assertEquals(List.of(7L, 8L, 9L, 10L, 11L, 12L), ids(readAll(b, BinlogFilter.all())));
            // even a zero retention keeps the current cycle
            b.prune(Duration.ZERO);
            assertEquals(List.of("20260304F.cq4"), cycleFiles());
            b.append(TestRecords.batch(13, "n", clock.millis() * 1000));
            assertEquals(13, b.last().orElseThrow().batchId());
        }
        // the next day, the last record's cycle is kept even though it is no longer current
        clock.advance(Duration.ofDays(3));
        try (Binlog b = Binlog.open(dir, cfg)) {
            assertEquals(List.of(), b.prune(Duration.ZERO));
            assertEquals(List.of(10L, 11L, 12L, 13L), ids(readAll(b, BinlogFilter.all())));
        }
    }

    private List<String> cycleFiles() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".cq4")).sorted().toList();
        }
    }

    @Test
    void secondWriterInTheSameJvmIsRefused() {
        try (Binlog b = Binlog.open(dir, BinlogConfig.defaults())) {
            b.append(TestRecords.batch(1));
            BinlogLockedException e = assertThrows(BinlogLockedException.class,
                    () -> Binlog.open(dir, BinlogConfig.defaults()));
            assertTrue(e.getMessage().contains("held by another logtail worker"), e.getMessage());
            // a reader is fine beside the writer
            try (Binlog r = Binlog.open(dir, BinlogConfig.defaults().withReadOnly(true))) {
                assertEquals(1, r.last().orElseThrow().batchId());
            }
        }
        try (Binlog b = Binlog.open(dir, BinlogConfig.defaults())) {
            assertEquals(1, b.last().orElseThrow().batchId());
        }
    }

    @Test
    void secondWriterInAnotherProcessIsRefusedUntilThatProcessDies() throws IOException {
        try (ChildJvm child = ChildJvm.start("hold", dir.toString())) {
            String holding = child.await("holding");
            long pid = child.process.pid();
            assertEquals("holding pid " + pid, holding);
            BinlogLockedException e = assertThrows(BinlogLockedException.class,
                    () -> Binlog.open(dir, BinlogConfig.defaults()));
            assertTrue(e.getMessage().contains("pid " + pid), e.getMessage());
            child.process.destroyForcibly();
            child.waitExit();
        }
        assertTrue(Files.exists(dir.resolve(Binlog.LOCK_FILE)), "the lock file stays behind");
        try (Binlog b = Binlog.open(dir, BinlogConfig.defaults())) {
            assertEquals(1, b.last().orElseThrow().batchId());
        }
    }

    @Test
    void readOnlyOnAnEmptyOrMissingDirectory() {
        try (Binlog r = Binlog.open(dir, BinlogConfig.defaults().withReadOnly(true))) {
            assertEquals(Optional.empty(), r.last());
            assertEquals(List.of(), readAll(r, BinlogFilter.all()));
        }
        BinlogException e = assertThrows(BinlogException.class,
                () -> Binlog.open(dir.resolve("nope"), BinlogConfig.defaults().withReadOnly(true)));
        assertTrue(e.getMessage().contains("no binlog at"), e.getMessage());
    }

    @Test
    void closedBinlogRefusesWork() {
        Binlog b = Binlog.open(dir, BinlogConfig.defaults());
        b.close();
        b.close();
        assertThrows(BinlogException.class, () -> b.append(TestRecords.batch(1)));
        assertThrows(BinlogException.class, b::last);
    }
}
