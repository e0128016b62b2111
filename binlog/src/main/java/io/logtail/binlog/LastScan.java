package io.logtail.binlog;

import java.util.List;
import java.util.Optional;

/**
 * What {@link Binlog#scanLast()} found at the end of the binlog.
 *
 * @param last       the last record that decodes with a valid CRC, if any
 * @param index      its Chronicle index, or -1
 * @param badRecords how many documents after it failed to decode (0 when the binlog ends cleanly)
 * @param badBytes   the total payload size of those documents
 * @param problems   one message per bad document, last first
 */
public record LastScan(Optional<BinlogRecord> last, long index, int badRecords, long badBytes, List<String> problems) {
    public LastScan {
        problems = List.copyOf(problems);
    }

    public boolean clean() {
        return badRecords == 0;
    }
}
