package io.logtail.binlog;

import java.util.List;

/** Records for tests. */
final class TestRecords {
    static final long T0 = 1_767_225_600_000_000L; // 2026-01-01T00:00:00Z in micros

    private TestRecords() {
    }

    static BinlogRecord batch(long id) {
        return batch(id, "node-a", T0 + id * 1_000_000L);
    }

    static BinlogRecord batch(long id, String node, long timeMicros) {
        return BinlogRecord.batch(id, node, timeMicros,
                List.of(new Range(0x1234_5678_9abc_def0L, 2049, 1000 + id, "/var/log/nginx/access.log",
                        id * 1000, id * 1000 + 999)),
                new Counts(10, 7, 1, 1, 1, 0, 0));
    }
}
