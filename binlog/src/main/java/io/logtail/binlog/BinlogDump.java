package io.logtail.binlog;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;

/**
 * Formats binlog records for people ({@link #text}) and for programs ({@link #json}, one JSON object a line).
 * Used by {@code ./logtail binlog dump}.
 *
 * <p>Text, one block per record: a header line, then one indented line per range:
 * <pre>
 * #42 BATCH node=n1 at 2026-01-02T03:04:05.123456Z lines=10 votes=8 canvass=1 rejects=1 skipped=0 duplicates=0 retransmits=0
 *   /var/log/nginx/access.log [1000,2000) fp=0x00000000deadbeef dev=2049 ino=131
 * #43 REWIND node=n1 at 2026-01-02T03:05:00Z from=41 to=12
 * </pre>
 * JSON (all numbers as JSON numbers except the fingerprint, a 16-digit hex string, and time, ISO-8601):
 * <pre>
 * {"index":...,"batch":42,"kind":"BATCH","node":"n1","time":"2026-01-02T03:04:05.123456Z","timeMicros":...,
 *  "ranges":[{"path":"...","start":1000,"end":2000,"fingerprint":"00000000deadbeef","device":2049,"inode":131}],
 *  "counts":{"lines":10,...}}
 * </pre>
 */
public final class BinlogDump {
    private BinlogDump() {
    }

    public static String time(long micros) {
        Instant i = Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1000);
        return i.toString();
    }

    public static String fingerprint(long fp) {
        return String.format("%016x", fp);
    }

    /** The text block of one record, ending with a newline. */
    public static String text(BinlogRecord r) {
        StringBuilder sb = new StringBuilder(128);
        sb.append('#').append(r.batchId()).append(' ').append(r.kind()).append(" node=").append(r.node())
                .append(" at ").append(time(r.commitTimeMicros()));
        if (r.kind() == RecordKind.REWIND) {
            sb.append(" from=").append(r.rewindFromBatchId()).append(" to=").append(r.rewindToBatchId());
        }
        Counts c = r.counts();
        if (r.kind() != RecordKind.REWIND || !c.equals(Counts.ZERO)) {
            sb.append(" lines=").append(c.lines()).append(" votes=").append(c.votes())
                    .append(" canvass=").append(c.canvass()).append(" rejects=").append(c.rejects())
                    .append(" skipped=").append(c.skipped()).append(" duplicates=").append(c.duplicates())
                    .append(" retransmits=").append(c.retransmits());
        }
        sb.append('\n');
        for (Range range : r.ranges()) {
            sb.append("  ").append(range.path()).append(" [").append(range.startOffset()).append(',')
                    .append(range.endOffset()).append(") fp=0x").append(fingerprint(range.fingerprint()))
                    .append(" dev=").append(range.device()).append(" ino=").append(range.inode()).append('\n');
        }
        return sb.toString();
    }

    /** One JSON object on one line (no newline at the end). {@code index} &lt; 0 leaves the index out. */
    public static String json(long index, BinlogRecord r) {
        StringBuilder sb = new StringBuilder(256);
        sb.append('{');
        if (index >= 0) {
            sb.append("\"index\":").append(index).append(',');
        }
        sb.append("\"batch\":").append(r.batchId())
                .append(",\"kind\":\"").append(r.kind()).append('"')
                .append(",\"node\":");
        str(sb, r.node());
        sb.append(",\"time\":\"").append(time(r.commitTimeMicros())).append('"')
                .append(",\"timeMicros\":").append(r.commitTimeMicros());
        if (r.kind() == RecordKind.REWIND) {
            sb.append(",\"rewindFrom\":").append(r.rewindFromBatchId())
                    .append(",\"rewindTo\":").append(r.rewindToBatchId());
        }
        sb.append(",\"ranges\":[");
        boolean first = true;
        for (Range range : r.ranges()) {
            if (!first) {
                sb.append(',');
            }
            first = false;
            sb.append("{\"path\":");
            str(sb, range.path());
            sb.append(",\"start\":").append(range.startOffset())
                    .append(",\"end\":").append(range.endOffset())
                    .append(",\"fingerprint\":\"").append(fingerprint(range.fingerprint())).append('"')
                    .append(",\"device\":").append(range.device())
                    .append(",\"inode\":").append(range.inode()).append('}');
        }
        Counts c = r.counts();
        sb.append("],\"counts\":{\"lines\":").append(c.lines())
                .append(",\"votes\":").append(c.votes())
                .append(",\"canvass\":").append(c.canvass())
                .append(",\"rejects\":").append(c.rejects())
                .append(",\"skipped\":").append(c.skipped())
                .append(",\"duplicates\":").append(c.duplicates())
                .append(",\"retransmits\":").append(c.retransmits()).append("}}");
        return sb.toString();
    }

    /**
     * Writes every record of {@code binlog} matching {@code filter} to {@code out}, text blocks or JSON lines.
     * Corrupt documents are skipped and reported on a line of their own ({@code # N corrupt document(s) skipped}
     * in text, a {@code {"corruptSkipped":N}} line in JSON).
     *
     * @return the number of records written
     */
    public static long dump(Binlog binlog, BinlogFilter filter, boolean asJson, Appendable out) {
        long n = 0;
        try (Binlog.BinlogCursor cursor = binlog.read(filter, true)) {
            while (cursor.hasNext()) {
                BinlogEntry e = cursor.next();
                if (asJson) {
                    out.append(json(e.index(), e.record())).append('\n');
                } else {
                    out.append(text(e.record()));
                }
                n++;
            }
            if (cursor.corruptSkipped() > 0) {
                out.append(asJson ? "{\"corruptSkipped\":" + cursor.corruptSkipped() + "}\n"
                        : "# " + cursor.corruptSkipped() + " corrupt document(s) skipped\n");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return n;
    }

    private static void str(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            switch (ch) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (ch < 0x20 || ch == 0x2028 || ch == 0x2029) {
                        sb.append(String.format("\\u%04x", (int) ch));
                    } else {
                        sb.append(ch);
                    }
                }
            }
        }
        sb.append('"');
    }
}
