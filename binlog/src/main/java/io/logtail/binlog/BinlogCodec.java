package io.logtail.binlog;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The binary encoding of a {@link BinlogRecord}: one record is one Chronicle Queue document whose payload is
 * exactly these bytes.
 *
 * <h2>Format version 1</h2>
 * <pre>
 * u8      version            = 1
 * u8      kind               0 BATCH, 1 HEAL, 2 REWIND
 * u8      flags              reserved, must be 0
 * varint  batchId
 * varint  commitTimeMicros   microseconds since 1970-01-01T00:00Z
 * string  node
 * varint  rangeCount         at most 65536
 *   per range:
 *   i64   fingerprint        little-endian, 8 bytes
 *   varint device
 *   varint inode
 *   string path              path of the file at the time
 *   varint startOffset
 *   varint endOffset         endOffset &gt;= startOffset
 * varint  lines, votes, canvass, rejects, skipped, duplicates, retransmits
 * (REWIND only) varint rewindFromBatchId, varint rewindToBatchId
 * u32     crc                CRC32C of every byte above, little-endian
 * </pre>
 * {@code varint} is unsigned LEB128 of the 64-bit value (7 bits a byte, low bits first, at most 10 bytes);
 * {@code string} is a varint byte length followed by that many bytes of UTF-8 (node at most 1024 bytes, path at
 * most 16384 bytes). Nothing may follow the CRC. A decoder reads the version byte first and refuses a version it
 * does not know; a later version may append fields before the CRC or use the flags byte.
 *
 * <p>{@link #decode(byte[], int, int)} returns a valid record or throws {@link BinlogCorruptException}, never
 * anything else: the CRC is checked first, then every field is bounds-checked.
 */
public final class BinlogCodec {
    public static final int VERSION = 1;
    /** version, kind, flags, 4 one-byte varints, empty node, 0 ranges, 7 counts, crc. */
    public static final int MIN_LENGTH = 3 + 2 + 1 + 1 + 7 + 4;
    private static final int MIN_RANGE_BYTES = 8 + 1 + 1 + 1 + 1 + 1;

    private BinlogCodec() {
    }

    public static byte[] encode(BinlogRecord r) {
        Out out = new Out(64 + r.node().length() + r.ranges().size() * 64);
        out.u8(VERSION);
        out.u8(r.kind().code());
        out.u8(0);
        out.varint(r.batchId());
        out.varint(r.commitTimeMicros());
        out.string(r.node());
        out.varint(r.ranges().size());
        for (Range range : r.ranges()) {
            out.i64(range.fingerprint());
            out.varint(range.device());
            out.varint(range.inode());
            out.string(range.path());
            out.varint(range.startOffset());
            out.varint(range.endOffset());
        }
        Counts c = r.counts();
        out.varint(c.lines());
        out.varint(c.votes());
        out.varint(c.canvass());
        out.varint(c.rejects());
        out.varint(c.skipped());
        out.varint(c.duplicates());
        out.varint(c.retransmits());
        if (r.kind() == RecordKind.REWIND) {
            out.varint(r.rewindFromBatchId());
            out.varint(r.rewindToBatchId());
        }
        int crc = crc32c(out.buf, 0, out.len);
        out.i32(crc);
        return Arrays.copyOf(out.buf, out.len);
    }

    public static BinlogRecord decode(byte[] bytes) {
        return decode(bytes, 0, bytes.length);
    }

    /**
     * @return the record encoded in {@code bytes[off, off+len)}
     * @throws BinlogCorruptException if those bytes are not exactly one valid record of a known version
     */
    public static BinlogRecord decode(byte[] bytes, int off, int len) {
        if (bytes == null || off < 0 || len < 0 || off + len > bytes.length || off + len < 0) {
            throw new BinlogCorruptException("no bytes to decode");
        }
        if (len < MIN_LENGTH) {
            throw new BinlogCorruptException("record too short: " + len + " bytes, at least " + MIN_LENGTH);
        }
        int end = off + len - 4;
        int stored = ByteBuffer.wrap(bytes, end, 4).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt();
        int actual = crc32c(bytes, off, len - 4);
        if (stored != actual) {
            throw new BinlogCorruptException(String.format("CRC32C mismatch: stored %08x, computed %08x over %d bytes",
                    stored, actual, len - 4));
        }
        return parse(bytes, off, end);
    }

    /** Parses {@code bytes[off, end)} without a CRC (the CRC was checked). Package-private for the fuzz test. */
    static BinlogRecord parse(byte[] bytes, int off, int end) {
        In in = new In(bytes, off, end);
        int version = in.u8();
        if (version != VERSION) {
            throw new BinlogCorruptException("unsupported binlog format version " + version + " (this build reads "
                    + VERSION + ")");
        }
        int kindCode = in.u8();
        RecordKind kind = RecordKind.fromCode(kindCode);
        if (kind == null) {
            throw new BinlogCorruptException("unknown record kind " + kindCode);
        }
        int flags = in.u8();
        if (flags != 0) {
            throw new BinlogCorruptException("unknown flags " + flags);
        }
        long batchId = in.varint();
        long time = in.varint();
        String node = in.string(BinlogRecord.MAX_NODE_BYTES, "node");
        long rangeCount = in.varint();
        if (rangeCount < 0 || rangeCount > BinlogRecord.MAX_RANGES
                || rangeCount * MIN_RANGE_BYTES > in.remaining()) {
            throw new BinlogCorruptException("bad range count " + Long.toUnsignedString(rangeCount));
        }
        List<Range> ranges = new ArrayList<>((int) rangeCount);
        try {
            for (int i = 0; i < rangeCount; i++) {
                long fp = in.i64();
                long dev = in.varint();
                long ino = in.varint();
                String path = in.string(BinlogRecord.MAX_PATH_BYTES, "path");
                long start = in.varint();
                long stop = in.varint();
                ranges.add(new Range(fp, dev, ino, path, start, stop));
            }
            Counts counts = new Counts(in.varint(), in.varint(), in.varint(), in.varint(), in.varint(), in.varint(),
                    in.varint());
            long from = 0;
            long to = 0;
            if (kind == RecordKind.REWIND) {
                from = in.varint();
                to = in.varint();
            }
            if (in.remaining() != 0) {
                throw new BinlogCorruptException(in.remaining() + " unexpected bytes after the record");
            }
            return new BinlogRecord(kind, batchId, node, time, ranges, counts, from, to);
        } catch (IllegalArgumentException e) {
            throw new BinlogCorruptException("invalid record: " + e.getMessage(), e);
        }
    }

    static int crc32c(byte[] b, int off, int len) {
        CRC32C crc = new CRC32C();
        crc.update(b, off, len);
        return (int) crc.getValue();
    }

    private static final class Out {
        byte[] buf;
        int len;

        Out(int capacity) {
            buf = new byte[capacity];
        }

        private void ensure(int n) {
            if (len + n > buf.length) {
                buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + n));
            }
        }

        void u8(int v) {
            ensure(1);
            buf[len++] = (byte) v;
        }

        void varint(long v) {
            ensure(10);
            while ((v & ~0x7FL) != 0) {
                buf[len++] = (byte) ((v & 0x7F) | 0x80);
                v >>>= 7;
            }
            buf[len++] = (byte) v;
        }

        void i64(long v) {
            ensure(8);
            for (int i = 0; i < 8; i++) {
                buf[len++] = (byte) (v >>> (8 * i));
            }
        }

        void i32(int v) {
            ensure(4);
            for (int i = 0; i < 4; i++) {
                buf[len++] = (byte) (v >>> (8 * i));
            }
        }

        void string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            varint(b.length);
            ensure(b.length);
            System.arraycopy(b, 0, buf, len, b.length);
            len += b.length;
        }
    }

    private static final class In {
        final byte[] b;
        int pos;
        final int end;

        In(byte[] b, int off, int end) {
            this.b = b;
            this.pos = off;
            this.end = end;
        }

        int remaining() {
            return end - pos;
        }

        private void need(int n, String what) {
            if (end - pos < n) {
                throw new BinlogCorruptException("record truncated reading " + what);
            }
        }

        int u8() {
            need(1, "a byte");
            return b[pos++] & 0xFF;
        }

        long varint() {
            long v = 0;
            for (int shift = 0; shift < 70; shift += 7) {
                need(1, "a varint");
                int x = b[pos++] & 0xFF;
                if (shift == 63 && (x & 0x7E) != 0) {
                    throw new BinlogCorruptException("varint overflows 64 bits");
                }
                v |= (long) (x & 0x7F) << shift;
                if ((x & 0x80) == 0) {
                    return v;
                }
            }
            throw new BinlogCorruptException("varint longer than 10 bytes");
        }

        long i64() {
            need(8, "a fingerprint");
            long v = 0;
            for (int i = 0; i < 8; i++) {
                v |= (long) (b[pos++] & 0xFF) << (8 * i);
            }
            return v;
        }

        String string(int max, String what) {
            long n = varint();
            if (n < 0 || n > max) {
                throw new BinlogCorruptException(what + " length " + Long.toUnsignedString(n) + " over the limit " + max);
            }
            need((int) n, what);
            CharsetDecoder dec = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT);
            try {
                CharBuffer cb = dec.decode(ByteBuffer.wrap(b, pos, (int) n));
                pos += (int) n;
                return cb.toString();
            } catch (CharacterCodingException e) {
                throw new BinlogCorruptException(what + " is not valid UTF-8", e);
            }
        }
    }
}
