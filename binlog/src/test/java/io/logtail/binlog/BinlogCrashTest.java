package io.logtail.binlog;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * kill -9 of a writer in the middle of its appends: every visible record decodes, batch ids stay contiguous, and
 * nothing the writer reported as synced is lost. Three rounds on the same binlog, each child going on from the last
 * record it finds, so a binlog left by a killed writer is also shown to be appendable.
 */
class BinlogCrashTest {
    @TempDir
    Path dir;

    @Test
    void killMinus9WhileAppending() throws IOException {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        long reportedSynced = 0;
        for (int round = 1; round <= 3; round++) {
            int moreSyncs = 1 + random.nextInt(300);
            try (ChildJvm child = ChildJvm.start("append", dir.toString(), "50")) {
                child.await("running");
                for (int i = 0; i < moreSyncs; i++) {
                    reportedSynced = Math.max(reportedSynced, parseSynced(child.await("synced ")));
                }
                // SIGKILL through the handle: Process.destroyForcibly() would also close our end of its stdout,
                // and the lines it printed before dying are needed
                child.process.toHandle().destroyForcibly();
                int exit = child.waitExit();
                assertEquals(137, exit, "killed by SIGKILL (seed " + seed + ")");
                String line;
                while ((line = child.readLine()) != null) { // lines printed before the kill landed
                    if (line.startsWith("synced ")) {
                        reportedSynced = Math.max(reportedSynced, parseSynced(line));
                    }
                }
            }
            long count = 0;
            try (Binlog b = Binlog.open(dir, BinlogConfig.defaults().withReadOnly(true));
                 Binlog.BinlogCursor c = b.read(BinlogFilter.all())) {
                while (c.hasNext()) { // throws BinlogCorruptException on any bad document
                    BinlogEntry e = c.next();
                    count++;
                    assertEquals(count, e.record().batchId(), "contiguous batch ids (seed " + seed + ")");
                    assertEquals(TestRecords.batch(count), e.record());
                }
                assertTrue(count >= reportedSynced, "round " + round + ": " + count + " visible, " + reportedSynced
                        + " reported synced (seed " + seed + ")");
                LastScan last = b.scanLast();
                assertTrue(last.clean(), last.toString());
                assertEquals(count, last.last().orElseThrow().batchId());
            }
            System.out.printf("crash round %d: %d records visible, %d reported synced%n", round, count,
                    reportedSynced);
        }
    }

    @Test
    void halfWrittenDocumentIsInvisibleAndTheNextWriterAppendsAfterIt() throws IOException {
        try (ChildJvm child = ChildJvm.start("torn", dir.toString())) {
            child.await("torn");
            assertEquals(9, child.waitExit());
        }
        try (Binlog b = Binlog.open(dir, BinlogConfig.defaults())) { // Chronicle's write lock of the dead pid is freed
            LastScan scan = b.scanLast();
            assertTrue(scan.clean(), scan.toString());
            assertEquals(5, scan.last().orElseThrow().batchId());
            b.append(TestRecords.batch(6));
            List<Long> ids = new ArrayList<>();
            try (Binlog.BinlogCursor c = b.read(BinlogFilter.all())) {
                c.forEachRemaining(e -> ids.add(e.record().batchId()));
            }
            assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L), ids);
        }
    }

    private static long parseSynced(String line) {
        return Long.parseLong(line.substring("synced ".length()).trim());
    }
}
