package io.logtail.binlog;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzzes the binlog <em>reader</em>: a queue directory whose files hold damaged or arbitrary bytes is opened and
 * scanned the ways logtail reads a binlog (read-only open, {@link Binlog#scanLast()} as the worker's recovery does,
 * a full read skipping corrupt documents as {@code binlog dump} does, a strict read as {@code recover} does, and a
 * writer's open and append, as the next worker start does). Each must end with the records it could decode or a
 * {@link BinlogException}: never another exception, an error of the JVM (not even behind a {@link BinlogException}:
 * a fault in a mapped page is raised wherever the thread happens to be, caught there only by luck), or a hang. ({@link BinlogCodecFuzzTest}
 * covers the record codec alone; this one covers Chronicle's file format around it and the binlog's handling of
 * it.)
 *
 * <p>The input patches a real queue of 40 records (bytes written at offsets the input chooses, the file cut or
 * extended), or, when its first byte is odd, replaces the cycle file with the input's bytes altogether.
 *
 * <p>Seeds: {@code src/test/resources/io/logtail/binlog/BinlogReaderFuzzTestInputs/}. {@code mvn verify} runs them as
 * regression tests, and fuzzes for {@code -Dlogtail.fuzz.seconds} (default 20) in the {@code fuzz-binlog-reader}
 * execution of binlog/pom.xml.
 */
class BinlogReaderFuzzTest {
    /** Chronicle waits its header timeout on every access to a damaged file: 10 s by default, 20 ms here. */
    private static final BinlogConfig FUZZ = BinlogConfig.defaults().withHeaderTimeout(Duration.ofMillis(20));
    private static Map<String, byte[]> template;
    /** The length Chronicle gives a cycle file (80 MiB, sparse); the template keeps only its written part. */
    private static final long CYCLE_FILE_LENGTH = 80L << 20;
    private static boolean cut;

    /** A queue of 40 records in one daily cycle file and its metadata file, as bytes (made once per JVM). */
    private static synchronized Map<String, byte[]> template() throws IOException {
        if (template == null) {
            Path dir = Files.createTempDirectory("binlog-fuzz-template");
            try (Binlog b = Binlog.open(dir, BinlogConfig.defaults().withMinFreeBytes(-1))) {
                for (int i = 1; i <= 40; i++) {
                    b.append(TestRecords.batch(i));
                }
            }
            Map<String, byte[]> files = new TreeMap<>();
            try (Stream<Path> s = Files.list(dir)) {
                for (Path p : s.toList()) {
                    String name = p.getFileName().toString();
                    if (name.endsWith(".cq4") || name.endsWith(".cq4t")) {
                        files.put(name, trimZeros(Files.readAllBytes(p)));
                    }
                }
            }
            deleteTree(dir);
            template = files;
        }
        return template;
    }

    /** A cycle file is sparse and mostly zeros at its end: keep the written part (what the fuzzer may patch). */
    private static byte[] trimZeros(byte[] b) {
        int n = b.length;
        while (n > 0 && b[n - 1] == 0) {
            n--;
        }
        return java.util.Arrays.copyOf(b, Math.min(b.length, n + 4096));
    }

    @FuzzTest(maxDuration = "20s")
    void readDamagedQueue(FuzzedDataProvider data) throws IOException {
        Path dir = Files.createTempDirectory("binlog-fuzz");
        try {
            boolean arbitrary = (data.consumeByte() & 1) == 1;
            cut = false;
            for (Map.Entry<String, byte[]> f : template().entrySet()) {
                byte[] bytes = f.getValue();
                if (f.getKey().endsWith(".cq4")) {
                    bytes = arbitrary ? data.consumeRemainingAsBytes() : patch(bytes, data);
                }
                Path file = dir.resolve(f.getKey());
                Files.write(file, bytes);
                if (f.getKey().endsWith(".cq4") && !arbitrary && !cut) {
                    // back to the cycle file's real length (sparse): only the cut case is short
                    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
                        raf.setLength(Math.max(raf.length(), CYCLE_FILE_LENGTH));
                    }
                }
            }
            readEveryWay(dir);
        } finally {
            deleteTree(dir);
        }
    }

    private static byte[] patch(byte[] file, FuzzedDataProvider data) {
        byte[] b = file.clone();
        int patches = data.consumeInt(0, 8);
        for (int i = 0; i < patches && data.remainingBytes() > 0; i++) {
            int at = data.consumeInt(0, b.length - 1);
            byte[] with = data.consumeBytes(data.consumeInt(1, 64));
            System.arraycopy(with, 0, b, at, Math.min(with.length, b.length - at));
        }
        if (data.remainingBytes() > 0 && data.consumeBoolean()) {
            b = java.util.Arrays.copyOf(b, data.consumeInt(0, b.length));   // the file cut short
            cut = true;
        }
        return b;
    }

    private static void readEveryWay(Path dir) {
        List<Long> seen = new ArrayList<>();
        expectBinlogExceptionOnly(() -> {
            try (Binlog r = Binlog.open(dir, FUZZ.withReadOnly(true))) {
                LastScan last = r.scanLast();
                assertTrue(last.badRecords() >= 0);
                try (Binlog.BinlogCursor c = r.read(BinlogFilter.all(), true)) {
                    while (c.hasNext()) {
                        seen.add(c.next().record().batchId());
                    }
                }
            }
        });
        expectBinlogExceptionOnly(() -> {
            try (Binlog r = Binlog.open(dir, FUZZ.withReadOnly(true));
                 Binlog.BinlogCursor c = r.read(BinlogFilter.all(), false)) {
                while (c.hasNext()) {
                    c.next();
                }
            }
        });
        expectBinlogExceptionOnly(() -> {
            try (Binlog w = Binlog.open(dir, FUZZ.withMinFreeBytes(-1))) {
                w.last();
                w.append(TestRecords.batch(1000));
            }
        });
        for (long id : seen) {
            assertTrue(id >= 1, "decoded records have valid batch ids: " + id);
        }
    }

    private static void expectBinlogExceptionOnly(Runnable r) {
        try {
            r.run();
        } catch (BinlogException expected) {
            // damaged: said so; unless the JVM failed behind it (a fault in a mapped page, raised where it happened to
            // be caught, or the heap exhausted): that is a finding, not a refusal
            for (Throwable t = expected; t != null; t = t.getCause()) {
                if (t instanceof VirtualMachineError) {
                    throw new AssertionError("a JVM error behind the refusal: " + expected, expected);
                }
            }
        }
    }

    private static void deleteTree(Path root) {
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
