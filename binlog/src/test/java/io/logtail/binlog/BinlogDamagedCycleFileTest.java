package io.logtail.binlog;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Damage in a cycle file that leads Chronicle past the end of the file, where a read-only queue (which maps a file
 * without extending it) touches a page with no file behind it: SIGBUS, which HotSpot raises as an
 * {@link InternalError} at a later safepoint of the thread. Once the code is compiled that is often outside any
 * catch ({@code BinlogReaderFuzzTest} found it so: crash-a941109579bd6ad6871ff67e0514a7e0bb16a797, now the seed
 * {@code first-header-cut-short-skips-past-end-sigbus}); in a fresh JVM like this one the error still comes inside the
 * binlog's catch, by luck. So these tests ask for more than a {@link BinlogException}: the file must be refused when
 * the binlog is opened, before Chronicle reads it, with what to do, and with no fault behind the refusal. A writer's
 * queue grows the file instead, and then allocated what the damage claims ({@link OutOfMemoryError}): refused too.
 * Damage Chronicle does not follow is read exactly, not refused.
 */
class BinlogDamagedCycleFileTest {
    private static final BinlogConfig READ_ONLY = BinlogConfig.defaults().withReadOnly(true)
            .withHeaderTimeout(Duration.ofMillis(20));

    @TempDir
    Path dir;

    /** The finding: the low byte of the first header's length overwritten, so the header ends inside itself. */
    @Test
    void firstHeaderCutShortLeadsPastTheEndAndIsRefusedAtOpen() throws IOException {
        Path cycle = queueOf40();
        int header = intAt(cycle, 0);
        int cutTo = 0x6b;
        assertTrue((header & 0x3FFF_FFFF) > cutTo, "the header is longer than what the damage leaves of it");
        writeAt(cycle, 0, (byte) cutTo);
        // what Chronicle reads next: a "metadata document" in the header's fields, claiming ~790 MB
        int next = intAt(cycle, (4 + cutTo + 3) & ~3);
        assertTrue((next & 0x4000_0000) != 0 && (4 + cutTo + (next & 0x3FFF_FFFF)) > Files.size(cycle),
                "the damage makes Chronicle skip past the end of the file: " + Integer.toHexString(next));

        assertRefused(cycle, "the document at byte 112 claims");
    }

    /** A length inside the header (of its indexing object) overwritten: Chronicle skips the object by it (SIGBUS). */
    @Test
    void headerObjectLengthPastTheEndIsRefusedAtOpen() throws IOException {
        Path cycle = queueOf40();
        byte[] head = read(cycle, 0, 256);
        int at = indexOf(head, "SCQSIndexing".getBytes(StandardCharsets.ISO_8859_1)) + 12;
        assertEquals(0x82, head[at] & 0xFF, "BYTES_LENGTH32 before the indexing object's fields");
        writeAt(cycle, at + 4, (byte) 0x63);   // its length's high byte: 1.6 GB
        assertRefused(cycle, "its header claims, at byte " + at + ",");
    }

    /** An index entry past the end: a SIGBUS in Chronicle's toEnd (with -ea, as here, its AssertionError first). */
    @Test
    void indexEntryPastTheEndIsRefusedAtOpen() throws IOException {
        Path cycle = queueOf40();
        long first = headerOf(cycle, TestRecords.batch(1));
        writeLongAt(cycle, find(cycle, first, 4096, first), Files.size(cycle) + (64 << 20));
        assertRefused(cycle, "of the index array at byte");
    }

    /**
     * A writer's queue grows the file instead of faulting, to the GiB the last document claims, and {@code last()}
     * allocated its payload: {@link OutOfMemoryError} with the tests' 1 GiB heap (found by the fuzz test,
     * {@code last-document-claims-1gib-writer-oom}). The worker's start: refused with what to do instead.
     */
    @Test
    void writerRefusesTheNewestFileWhenALengthLeadsPastItsEnd() throws IOException {
        Path cycle = queueOf40();
        long last = headerOf(cycle, TestRecords.batch(40));
        writeAt(cycle, last, ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0x3FFF_FFF0).array());
        BinlogCorruptException e = assertThrows(BinlogCorruptException.class, () -> {
            try (Binlog w = Binlog.open(dir, BinlogConfig.defaults().withMinFreeBytes(-1))) {
                w.last();
            }
        });
        assertTrue(e.getMessage().contains("binlog cycle file " + cycle + " is damaged: the document at byte " + last
                + " claims 1073741808 bytes") && e.getMessage().contains("move the file out of the binlog directory"),
                e.getMessage());
        assertEquals(80L << 20, Files.size(cycle), "the file is left as it was");
    }

    /**
     * A file longer than its first mapping but not as long as its last (cut by a crash of the machine after Chronicle
     * had grown it): a writer extends it to the end of that mapping, as it does a file shorter than 80 MiB.
     */
    @Test
    void writerExtendsAFileCutInsideALaterMapping() throws IOException {
        Path cycle = queueOf40();
        try (RandomAccessFile raf = new RandomAccessFile(cycle.toFile(), "rw")) {
            raf.setLength(100L << 20);
        }
        try (Binlog r = Binlog.open(dir, READ_ONLY)) {
            assertEquals(40, BinlogTest.readAll(r, BinlogFilter.all()).size());
        }
        assertEquals(100L << 20, Files.size(cycle), "a reader changes nothing");
        try (Binlog w = Binlog.open(dir, BinlogConfig.defaults().withMinFreeBytes(-1))) {
            assertEquals(40, w.last().orElseThrow().batchId());
            w.append(TestRecords.batch(41));
        }
        assertEquals(144L << 20, Files.size(cycle), "block (64 MiB) * 2 + overlap (16 MiB)");
    }

    /**
     * The header's write position past the end: a reader reads through it, but a writer's appender goes there,
     * growing the file to it (to 1 TiB, or out of memory for a position further out). Refused, for both.
     */
    @Test
    void writePositionPastTheEndIsRefusedAtOpen() throws IOException {
        Path cycle = queueOf40();
        long last = headerOf(cycle, TestRecords.batch(40));
        writeLongAt(cycle, find(cycle, last, 0, 4096), 1L << 40);
        assertRefused(cycle, "writePosition points to byte 1099511627776, where no document starts");
        BinlogCorruptException e = assertThrows(BinlogCorruptException.class,
                () -> Binlog.open(dir, BinlogConfig.defaults().withMinFreeBytes(-1)).close());
        assertTrue(e.getMessage().contains("writePosition points to byte"), e.getMessage());
        assertEquals(80L << 20, Files.size(cycle), "the file is left as it was");
    }

    /** Damage where Chronicle never reads (an index entry of records not written) is read exactly: not refused. */
    @Test
    void unusedIndexEntryDamagedIsReadExactly() throws IOException {
        Path cycle = queueOf40();
        long first = headerOf(cycle, TestRecords.batch(1));
        long entry0 = find(cycle, first, 4096, first);
        writeLongAt(cycle, entry0 + 7 * 8, Files.size(cycle) + (64 << 20));   // the entry of records 1793 to 2048
        assertNull(CycleFileCheck.problem(cycle));
        try (Binlog r = Binlog.open(dir, READ_ONLY)) {
            assertEquals(40, r.scanLast().last().orElseThrow().batchId());
            assertEquals(40, BinlogTest.readAll(r, BinlogFilter.all()).size());
        }
    }

    @Test
    void intactFilesOfEveryRollPass() throws IOException {
        for (BinlogConfig.Roll roll : BinlogConfig.Roll.values()) {
            Path d = dir.resolve(roll.name());
            try (Binlog b = Binlog.open(d, BinlogConfig.defaults().withRoll(roll).withMinFreeBytes(-1))) {
                for (int i = 1; i <= 600; i++) {   // index entries beyond the first
                    b.append(TestRecords.batch(i));
                }
            }
            for (Path f : cycleFiles(d)) {
                assertNull(CycleFileCheck.problem(f), f.toString());
            }
            try (Binlog r = Binlog.open(d, READ_ONLY.withRoll(roll))) {
                assertEquals(600, BinlogTest.readAll(r, BinlogFilter.all()).size());
                assertEquals(600, r.last().orElseThrow().batchId());
            }
        }
    }

    /** Read as {@code binlog dump} and {@code recover} do: refused at open, before a fault, with what to do. */
    private void assertRefused(Path cycle, String problem) {
        BinlogCorruptException e = assertThrows(BinlogCorruptException.class, () -> {
            try (Binlog r = Binlog.open(dir, READ_ONLY)) {
                r.scanLast();
                BinlogTest.readAll(r, BinlogFilter.all());
            }
        });
        for (Throwable t = e; t != null; t = t.getCause()) {
            assertTrue(!(t instanceof InternalError), "a fault in a mapped page (Chronicle read past the end of the"
                    + " file), caught here only because this JVM has not compiled the code yet: " + e);
        }
        String m = e.getMessage();
        assertTrue(m.contains("binlog cycle file " + cycle + " is damaged") && m.contains(problem)
                && m.contains("move the file out of the binlog directory") && m.contains("docs/recovery.md"), m);
    }

    /** A queue of 40 records in one cycle file, closed (as BinlogReaderFuzzTest's template). */
    private Path queueOf40() throws IOException {
        try (Binlog b = Binlog.open(dir, BinlogConfig.defaults().withMinFreeBytes(-1))) {
            for (int i = 1; i <= 40; i++) {
                b.append(TestRecords.batch(i));
            }
        }
        List<Path> files = cycleFiles(dir);
        assertEquals(1, files.size(), files.toString());
        return files.get(0);
    }

    private static List<Path> cycleFiles(Path d) throws IOException {
        try (Stream<Path> s = Files.list(d)) {
            return new ArrayList<>(s.filter(p -> p.toString().endsWith(".cq4")).sorted().toList());
        }
    }

    /** The position of the header of {@code r}'s document (its payload found in the file, 4 bytes before it). */
    private static long headerOf(Path cycle, BinlogRecord r) throws IOException {
        int at = indexOf(read(cycle, 0, 1 << 20), BinlogCodec.encode(r));
        assertTrue(at >= 4, "record " + r.batchId() + " found in " + cycle);
        return at - 4;
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

    /** Where in [from, to) the file holds the 8-byte little-endian {@code value} (a position Chronicle stored). */
    private static long find(Path cycle, long value, long from, long to) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(read(cycle, from, (int) (to - from))).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i + 8 <= b.limit(); i += 4) {
            if (b.getLong(i) == value) {
                return from + i;
            }
        }
        throw new AssertionError("position " + value + " not stored in [" + from + ", " + to + ") of " + cycle);
    }

    private static byte[] read(Path f, long at, int n) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "r")) {
            byte[] b = new byte[n];
            raf.seek(at);
            raf.readFully(b);
            return b;
        }
    }

    private static int intAt(Path f, long at) throws IOException {
        return ByteBuffer.wrap(read(f, at, 4)).order(ByteOrder.LITTLE_ENDIAN).getInt();
    }

    private static void writeAt(Path f, long at, byte... bytes) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.seek(at);
            raf.write(bytes);
        }
    }

    private static void writeLongAt(Path f, long at, long value) throws IOException {
        writeAt(f, at, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value).array());
    }
}
