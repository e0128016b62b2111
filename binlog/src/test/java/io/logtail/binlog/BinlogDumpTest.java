package io.logtail.binlog;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class BinlogDumpTest {
    @TempDir
    Path dir;

    @Test
    void textBlock() {
        BinlogRecord r = BinlogRecord.batch(42, "n1", 1_767_323_045_123_456L,
                List.of(new Range(0xdeadbeefL, 2049, 131, "/var/log/nginx/access.log", 1000, 2000)),
                new Counts(10, 8, 1, 1, 0, 0, 0));
        assertEquals("#42 BATCH node=n1 at 2026-01-02T03:04:05.123456Z lines=10 votes=8 canvass=1 rejects=1"
                        + " skipped=0 duplicates=0 retransmits=0\n"
                        + "  /var/log/nginx/access.log [1000,2000) fp=0x00000000deadbeef dev=2049 ino=131\n",
                BinlogDump.text(r));
        assertEquals("#43 REWIND node=n1 at 2026-01-02T03:05:00Z from=41 to=12\n",
                BinlogDump.text(BinlogRecord.rewind(43, "n1", 1_767_323_100_000_000L, 41, 12)));
    }

    @Test
    void jsonLine() {
        BinlogRecord r = BinlogRecord.heal(7, "n\"1", 1_767_323_045_000_001L,
                List.of(new Range(-1L, 1, 2, "/a\\b\n", 0, 5)), new Counts(1, 2, 3, 4, 5, 6, 7));
        assertEquals("{\"index\":5,\"batch\":7,\"kind\":\"HEAL\",\"node\":\"n\\\"1\","
                        + "\"time\":\"2026-01-02T03:04:05.000001Z\",\"timeMicros\":1767323045000001,"
                        + "\"ranges\":[{\"path\":\"/a\\\\b\\n\",\"start\":0,\"end\":5,\"fingerprint\":\"ffffffffffffffff\","
                        + "\"device\":1,\"inode\":2}],\"counts\":{\"lines\":1,\"votes\":2,\"canvass\":3,\"rejects\":4,"
                        + "\"skipped\":5,\"duplicates\":6,\"retransmits\":7}}",
                BinlogDump.json(5, r));
    }

    @Test
    void dumpWritesMatchingRecords() {
        try (Binlog b = Binlog.open(dir, BinlogConfig.defaults())) {
            for (int i = 1; i <= 5; i++) {
                b.append(TestRecords.batch(i));
            }
            StringBuilder sb = new StringBuilder();
            assertEquals(2, BinlogDump.dump(b, BinlogFilter.all().batches(2, 3), true, sb));
            assertEquals(2, sb.toString().lines().count());
            StringBuilder text = new StringBuilder();
            assertEquals(5, BinlogDump.dump(b, BinlogFilter.all(), false, text));
            assertEquals(10, text.toString().lines().count());
        }
    }
}
