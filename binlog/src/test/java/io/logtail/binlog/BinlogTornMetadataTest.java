package io.logtail.binlog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A writer killed while Chronicle created {@code metadata.cq4t} (the binlog's first start) left a file whose header
 * never completed: every later start failed with "Unable to claim exclusive lock" (WorkerTortureIT, which kills
 * workers during their start). With no cycle file yet, the next writer removes it and starts.
 */
class BinlogTornMetadataTest {
    @TempDir Path dir;

    @Test
    void aWriterStartsOverAMetadataFileWhoseCreationWasCutShort() throws Exception {
        Files.createDirectories(dir);
        // the first bytes of the file a worker killed during its first start left (WorkerTortureIT, 2026-12-07): a
        // header begun (length 0 with Chronicle's "not complete" bit) and never finished; zeros to 128 KiB
        byte[] torn = new byte[131072];
        byte[] head = java.util.HexFormat.of().parseHex("00000080b906686561646572b607535453746f72658200000000c87769726554797065b6085769726554797065ec42494e4152595f4c49474854c86d65746164617461b6075343514d6574618200000000c4726f6c6cb60853435153526f6c00");
        System.arraycopy(head, 0, torn, 0, head.length);
        Files.write(dir.resolve("metadata.cq4t"), torn);
        BinlogConfig cfg = BinlogConfig.defaults().withHeaderTimeout(Duration.ofSeconds(2));
        try (Binlog b = Binlog.open(dir, cfg)) {
            b.append(TestRecords.batch(1));
            b.append(TestRecords.batch(2));
            b.sync();
        }
        List<Long> ids = new ArrayList<>();
        try (Binlog r = Binlog.open(dir, cfg.withReadOnly(true));
             Binlog.BinlogCursor c = r.read(BinlogFilter.all(), false)) {
            while (c.hasNext()) {
                ids.add(c.next().record().batchId());
            }
        }
        assertEquals(List.of(1L, 2L), ids);
    }

    @Test
    void aMetadataFileBesideCycleFilesIsLeftAlone() throws Exception {
        try (Binlog b = Binlog.open(dir, BinlogConfig.defaults())) {
            b.append(TestRecords.batch(1));
            b.sync();
        }
        Object before = Files.getAttribute(dir.resolve("metadata.cq4t"), "unix:ino");
        try (Binlog b = Binlog.open(dir, BinlogConfig.defaults())) {
            b.append(TestRecords.batch(2));
        }
        assertTrue(Files.exists(dir.resolve("metadata.cq4t")));
        assertEquals(before, Files.getAttribute(dir.resolve("metadata.cq4t"), "unix:ino"), "not removed and created again");
    }
}
