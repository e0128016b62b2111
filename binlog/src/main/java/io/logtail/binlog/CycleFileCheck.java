package io.logtail.binlog;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Deque;
import java.util.HashSet;
import java.util.Set;

/**
 * Checks, before Chronicle reads a cycle file, that nothing in it leads Chronicle past the end of the file.
 *
 * <h2>Why</h2>
 * A read-only queue maps its cycle files without extending them, so a read at a position past the end of the file
 * touches a page with no file behind it: SIGBUS, which HotSpot raises as an {@link InternalError} not at the read but
 * at a later safepoint of the thread, often outside any catch (found by {@code BinlogReaderFuzzTest}: the length in
 * the file's first header overwritten made Chronicle skip a document of 790 MB and read the next header there). Such
 * an error cannot be caught reliably. A writer's queue grows the file instead, to wherever the damage points, and
 * then holds or allocates what it claims ({@link OutOfMemoryError}, also found by the fuzz test). So the positions
 * are checked first, through a {@link FileChannel} (read, not mapped).
 *
 * <h2>What</h2>
 * Chronicle reaches a position of a cycle file (1) from the first header, each document's length leading to the
 * next header (metadata documents are skipped by Chronicle itself, data documents by the binlog's reads), and (2)
 * through its index: the header's {@code index2Index} → the {@code index2index} array → {@code index} arrays →
 * documents, from which it scans on along the documents, and (3) from the header's {@code writePosition}, the last
 * document written, where a writer's appender goes. So: documents are walked from each of these entry points (a walk
 * stops at an empty or incomplete header, at the end-of-file marker, or at a header already walked), and every
 * document, every index array inside its document, must end within the file, every index entry point into it, and
 * {@code writePosition} must be a document's start on the documents walked from the first header. (An index entry past
 * the end was a SIGBUS in {@code toEnd}, an {@link AssertionError} of Chronicle with {@code -ea}; a
 * {@code writePosition} past the end made a writer grow the file to it, to 1 TiB, or run out of memory.) The header
 * must be laid out as Chronicle writes it (see {@link #header()}); index documents are found by their names in
 * Chronicle's binary wire format.
 *
 * <p>A file that a writer is appending to meanwhile is fine: the walk stops where the writer is, and the length of the
 * file is read again before a document is called too long.
 */
final class CycleFileCheck {
    // Chronicle's header word (net.openhft.chronicle.wire.Wires)
    private static final int NOT_COMPLETE = 0x8000_0000;
    private static final int META_DATA = 0x4000_0000;
    private static final int LENGTH_MASK = 0x3FFF_FFFF;
    // binary wire codes (net.openhft.chronicle.wire.BinaryWireCode)
    private static final int I64_ARRAY = 0x8D;
    private static final int PADDING32 = 0x8E;
    private static final int PADDING = 0x8F;
    private static final int FIELD_NAME_ANY = 0xB7;
    private static final int EVENT_NAME = 0xB9;
    private static final int FIELD_NAME0 = 0xC0;
    private static final int FIELD_NAME31 = 0xDF;
    /** The most a header document's fields take (about 200 bytes written); a longer one is refused. */
    private static final int HEADER_READ = 60 << 10;

    private final FileChannel ch;
    private final ByteBuffer window = ByteBuffer.allocate(64 << 10).order(ByteOrder.LITTLE_ENDIAN);
    private long windowStart = -1;
    private long length;
    /** Header positions walked, by position / 4 (headers are 4-byte aligned). */
    private final BitSet walked = new BitSet();
    /** The positions of the index arrays read: each once, however many entries point to it. */
    private final Set<Long> indexesRead = new HashSet<>();
    /** Positions still to walk from: index entries, and where the index points. */
    private final Deque<Long> entries = new ArrayDeque<>();
    /** Index arrays met while walking, still to check. */
    private final Deque<Long> indexDocs = new ArrayDeque<>();
    private int indexCount = -1;
    private long indexSpacing = -1;
    /** The sequence numbers the index may be asked for: the data documents walked, or the header's next to index. */
    private long sequences;
    /** Where the last walk stopped (an empty or incomplete header, or the end-of-file marker), or -1. */
    private long stoppedAt = -1;
    private long writePosition;

    private CycleFileCheck(FileChannel ch) throws IOException {
        this.ch = ch;
        this.length = ch.size();
    }

    /** Null when nothing in {@code file} leads past its end, else what does (for the operator's message). */
    static String problem(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return new CycleFileCheck(ch).check();
        }
    }

    private String check() throws IOException {
        if ((length >>> 2) > Integer.MAX_VALUE) {
            return null;   // 8 GiB and more: beyond what a binlog's day writes; not walked
        }
        String p = walk(0);   // first: the documents, counting the data documents the index may be asked for
        long chainEnd = stoppedAt;
        if (p == null) {
            p = header();
        }
        if (p == null && writePosition != 0 && !startsDocument(writePosition)) {
            if (chainEnd >= 0 && writePosition > chainEnd) {   // appended since, by a writer beside this reader?
                walked.clear((int) (chainEnd >>> 2));
                windowStart = -1;   // read again
                p = walk(chainEnd);
            }
            if (p == null && !startsDocument(writePosition)) {
                p = "its header's writePosition points to byte " + writePosition + ", where no document starts"
                        + " (the file has " + length + " bytes)";
            }
        }
        while (p == null && !(entries.isEmpty() && indexDocs.isEmpty())) {
            p = indexDocs.isEmpty() ? walk(entries.poll())
                    : index(indexDocs.poll(), "index", "the index array's own position");
        }
        return p;
    }

    /**
     * The store header, the file's first document, as Chronicle writes it: {@code header: !SCQStore {writePosition:
     * [..], indexing: !SCQSIndexing {indexCount, indexSpacing, index2Index, lastIndex}, dataFormat}}, exactly these
     * fields in this order, each length within what holds it. Chronicle skips each value by its length, and takes a
     * field it does not find by its name from wherever it is (with a name overwritten, another's value, as the fuzz
     * test found): a header that differs is refused, not read one way here and another by Chronicle.
     */
    private String header() throws IOException {
        if (length < 4) {
            return null;   // Chronicle refuses it (no header)
        }
        int h = intAt(0);
        if ((h & NOT_COMPLETE) != 0 || (h & META_DATA) == 0) {
            return null;   // not a header: Chronicle refuses it (StreamCorruptedException)
        }
        String p = fits(0, h);
        if (p != null) {
            return p;
        }
        byte[] b = bytes(4, (int) Math.min(h & LENGTH_MASK, HEADER_READ));
        long index2Index;
        try {
            int[] store = object(b, named(b, 0, EVENT_NAME, "header", b.length), "SCQStore", b.length);
            int i = field(b, store[0], "writePosition", store[1]);
            if ((b[i] & 0xFF) != I64_ARRAY || i + 25 > store[1]) {
                throw new IllegalStateException(notAsWritten("an array at byte " + (4 + i)));
            }
            writePosition = ByteBuffer.wrap(b, i + 17, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            int[] indexing = object(b, field(b, skipValue(b, i, store[1]), "indexing", store[1]), "SCQSIndexing",
                    store[1]);
            i = field(b, indexing[0], "indexCount", indexing[1]);
            indexCount = (int) Math.min(Integer.MAX_VALUE, integer(b, i));
            i = field(b, skipValue(b, i, indexing[1]), "indexSpacing", indexing[1]);
            indexSpacing = integer(b, i);
            i = field(b, skipValue(b, i, indexing[1]), "index2Index", indexing[1]);
            index2Index = int64(b, i);
            i = field(b, skipValue(b, i, indexing[1]), "lastIndex", indexing[1]);
            // the next sequence number to index: Chronicle looks up the index entry before it
            sequences = Math.max(sequences, int64(b, i));
            ends(b, skipValue(b, i, indexing[1]), indexing[1], "SCQSIndexing");
            i = field(b, indexing[1], "dataFormat", store[1]);
            ends(b, skipValue(b, i, store[1]), store[1], "SCQStore");
        } catch (IllegalStateException e) {
            return "its header " + e.getMessage();
        } catch (IndexOutOfBoundsException e) {
            return "its header " + notAsWritten("another layout (" + e.getMessage() + ")");
        }
        return index2Index != 0 ? index(index2Index, "index2index", "its header's index2Index") : null;
    }

    /**
     * The index array {@code name} ("index2index" or "index") that {@code what} points to at {@code pos}: it must be
     * that document, its entries within it; each entry is walked (and an index2index entry is an index array).
     */
    private String index(long pos, String name, String what) throws IOException {
        String p = entry(pos, what);
        if (p != null || !indexesRead.add(pos)) {
            return p;
        }
        int h = intAt(pos);
        int len = h & LENGTH_MASK;
        p = fits(pos, h);
        if (p != null) {
            return p;
        }
        byte[] start = bytes(pos + 4, Math.min(len, 64));
        int at = valueAfter(start, name);
        if ((h & (NOT_COMPLETE | META_DATA)) != META_DATA || at < 0 || (start[at] & 0xFF) != I64_ARRAY
                || at + 17 > start.length) {
            return what + " points to byte " + pos + ", which holds no " + name + " array";
        }
        ByteBuffer counts = ByteBuffer.wrap(start, at + 1, 16).order(ByteOrder.LITTLE_ENDIAN);
        long capacity = counts.getLong();
        long used = counts.getLong();
        long valuesAt = pos + 4 + at + 17;
        if (capacity < 0 || capacity > len / 8 || valuesAt + capacity * 8 > pos + 4 + len) {
            return "the " + name + " array at byte " + pos + " claims " + capacity + " entries, past the end of its"
                    + " document";
        }
        if (capacity < indexCount) {
            return "the " + name + " array at byte " + pos + " has " + capacity + " entries, fewer than the "
                    + indexCount + " of the file's indexCount";
        }
        // the entries Chronicle may read: those it counts as used (scanning back for the last one), and those of the
        // sequence numbers in the file; below indexCount only (the slot is masked with it)
        long n = capacity;
        long perEntry = name.equals("index2index") ? indexSpacing * indexCount : indexSpacing;
        if (indexCount > 0 && indexSpacing > 0 && perEntry > 0) {
            n = Math.min(indexCount, Math.max(used, (sequences + perEntry - 1) / perEntry));
        }
        for (long i = 0; i < Math.min(n, capacity); i++) {
            long v = longAt(valuesAt + i * 8);
            if (v == 0) {
                continue;
            }
            String of = "entry " + i + " of the " + name + " array at byte " + pos;
            p = name.equals("index2index") ? index(v, "index", of) : entry(v, of);
            if (p != null) {
                return p;
            }
        }
        return null;
    }

    /** A position Chronicle may read a header at: within the file, and walked from later. */
    private String entry(long pos, String what) throws IOException {
        if (pos >= 0 && pos + 4 > length) {
            length = ch.size();   // a writer may have grown the file since
        }
        if (pos < 0 || pos + 4 > length) {
            return what + " points to byte " + pos + ", outside the file (" + length + " bytes)";
        }
        entries.add(pos);
        return null;
    }

    /** Walks the documents from {@code pos} as Chronicle reads them, until the end of what was written. */
    private String walk(long pos) throws IOException {
        pos = (pos + 3) & ~3L;
        while (!walked.get((int) (pos >>> 2))) {
            walked.set((int) (pos >>> 2));
            if (pos + 4 > length && (length = ch.size()) < pos + 4) {
                return "the documents reach byte " + pos + ", the end of the file (" + length + " bytes), without"
                        + " an end";
            }
            int h = intAt(pos);
            if (h == 0) {
                stoppedAt = pos;
                return null;   // nothing written here: Chronicle's end too
            }
            String p = fits(pos, h);
            if (p != null || (h & NOT_COMPLETE) != 0) {
                stoppedAt = pos;
                return p;      // incomplete (being written, or torn) or the end-of-file marker: Chronicle stops
            }
            if ((h & META_DATA) == 0) {
                sequences++;
            } else if (pos > 0 && valueAfter(bytes(pos + 4, Math.min(h & LENGTH_MASK, 64)), "index") >= 0) {
                indexDocs.add(pos);   // checked once the header says how many entries count
            }
            pos = (pos + 4 + (h & LENGTH_MASK) + 3) & ~3L;
        }
        return null;
    }

    /** Whether a walk so far met a header at {@code pos}. */
    private boolean startsDocument(long pos) {
        return pos > 0 && pos < length && (pos & 3) == 0 && walked.get((int) (pos >>> 2));
    }

    /** Null when the document with header {@code h} at {@code pos} ends within the file. */
    private String fits(long pos, int h) throws IOException {
        long end = pos + 4 + (h & LENGTH_MASK);
        if (end > length && (length = ch.size()) < end) {
            return "the document at byte " + pos + " claims " + (h & LENGTH_MASK) + " bytes, to byte " + end
                    + ", past the end of the file (" + length + " bytes)";
        }
        return null;
    }

    private static String notAsWritten(String expected) {
        return "is not as Chronicle writes it: " + expected + " expected";
    }

    /** After the {@code code} (EVENT_NAME, TYPE_PREFIX) {@code name} at {@code i}. */
    private static int named(byte[] b, int i, int code, String name, int end) {
        i = skipPadding(b, i, end);
        byte[] n = name.getBytes(StandardCharsets.ISO_8859_1);
        if (i + 2 + n.length > end || (b[i] & 0xFF) != code || b[i + 1] != n.length
                || !Arrays.equals(b, i + 2, i + 2 + n.length, n, 0, n.length)) {
            throw new IllegalStateException(notAsWritten(name + " at byte " + (4 + i)));
        }
        return i + 2 + n.length;
    }

    /** The object of {@code type} at {@code i}: where its fields begin and end. */
    private static int[] object(byte[] b, int i, String type, int end) {
        i = named(b, i, 0xB6, type, end);   // TYPE_PREFIX
        int code = i < end ? b[i] & 0xFF : 0;
        if (code < 0x80 || code > 0x82) {
            throw new IllegalStateException(notAsWritten("the length of the " + type + " at byte " + (4 + i)));
        }
        return new int[] {i + 1 + (1 << (code - 0x80)), skipValue(b, i, end)};
    }

    /** Where the value of the field {@code name} at {@code i} begins. */
    private static int field(byte[] b, int i, String name, int end) {
        i = skipPadding(b, i, end);
        byte[] n = name.getBytes(StandardCharsets.ISO_8859_1);
        if (i + 1 + n.length >= end || (b[i] & 0xFF) != FIELD_NAME0 + n.length
                || !Arrays.equals(b, i + 1, i + 1 + n.length, n, 0, n.length)) {
            throw new IllegalStateException(notAsWritten("the field " + name + " at byte " + (4 + i)));
        }
        i = skipPadding(b, i + 1 + n.length, end);
        if (i >= end) {
            throw new IllegalStateException(notAsWritten("the value of " + name + " at byte " + (4 + i)));
        }
        return i;
    }

    private static long int64(byte[] b, int i) {
        if ((b[i] & 0xFF) != 0xA7 || i + 9 > b.length) {
            throw new IllegalStateException(notAsWritten("a 64-bit integer at byte " + (4 + i)));
        }
        return ByteBuffer.wrap(b, i + 1, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    private static void ends(byte[] b, int i, int end, String type) {
        if (skipPadding(b, i, end) != end) {
            throw new IllegalStateException(notAsWritten("the end of the " + type + " at byte " + (4 + i)));
        }
    }

    /**
     * Where the binary wire value at {@code i} of {@code b} ends, its lengths kept within {@code end}: Chronicle reads
     * the header's values in turn and skips each by its length, so a length that leads past the header leads it past
     * (a length of a nested object overwritten was a SIGBUS, found by the fuzz test). A code a header never holds is
     * refused too: how Chronicle would skip it is not known here.
     *
     * @throws IllegalStateException (with the rest of the message) when a length leads past {@code end}
     */
    private static int skipValue(byte[] b, int i, int end) {
        i = skipPadding(b, i, end);
        if (i >= end) {
            throw new IllegalStateException("ends at byte " + (4 + i) + " where a value was expected");
        }
        int code = b[i] & 0xFF;
        if (code < 0x80 || code == 0xB0 || code == 0xB1 || code == 0xBB) {   // small int, false, true, null
            return i + 1;
        }
        return switch (code) {
            case 0x80, 0x81, 0x82 -> {   // BYTES_LENGTH8/16/32: an object, its fields within that length
                int size = code == 0x80 ? 1 : code == 0x81 ? 2 : 4;
                int to = within(b, i, i + 1 + size + le(b, i + 1, size, end), end);
                for (int f = skipPadding(b, i + 1 + size, to); f < to; f = skipPadding(b, f, to)) {
                    f = skipValue(b, skipName(b, f, 0, to), to);
                }
                yield to;
            }
            case I64_ARRAY -> within(b, i, i + 17 + 8 * le(b, i + 1, 8, end), end);
            case 0xA1, 0xA4 -> within(b, i, i + 2L, end);
            case 0xA2, 0xA5 -> within(b, i, i + 3L, end);
            case 0xA3, 0xA6, 0x90 -> within(b, i, i + 5L, end);
            case 0xA7, 0x91 -> within(b, i, i + 9L, end);
            case 0xB6 -> skipValue(b, skipName(b, i, 1, end), end);   // TYPE_PREFIX: a type name, then the value
            case 0xB8 -> skipName(b, i, 1, end);                      // STRING_ANY
            default -> {
                if (code >= 0xE0) {                                     // STRING_0..31
                    yield within(b, i, i + 1L + (code - 0xE0), end);
                }
                throw new IllegalStateException("holds code 0x" + Integer.toHexString(code) + " at byte " + (4 + i)
                        + ", which a header never holds");
            }
        };
    }

    /**
     * After the name at {@code i}: a field name (FIELD_NAME0..31, FIELD_NAME_ANY) unless {@code stopBit} is 1, where the
     * code at {@code i} is followed by a stop-bit length and that many bytes (EVENT_NAME, TYPE_PREFIX, STRING_ANY).
     * Anything else is no name: {@code i} itself.
     */
    private static int skipName(byte[] b, int i, int stopBit, int end) {
        int code = b[i] & 0xFF;
        if (stopBit == 0 && code >= FIELD_NAME0 && code <= FIELD_NAME31) {
            return within(b, i, i + 1L + (code - FIELD_NAME0), end);
        }
        if (stopBit == 0 && code != FIELD_NAME_ANY) {
            return i;
        }
        long n = 0;
        int at = i + 1;
        for (int shift = 0; ; shift += 7) {
            if (at >= end || shift > 28) {
                throw new IllegalStateException("holds a name at byte " + (4 + i) + " whose length has no end");
            }
            int c = b[at++] & 0xFF;
            n |= (long) (c & 0x7F) << shift;
            if (c < 0x80) {
                break;
            }
        }
        return within(b, i, at + n, end);
    }

    private static int skipPadding(byte[] b, int i, int end) {
        while (i < end && ((b[i] & 0xFF) == PADDING || (b[i] & 0xFF) == PADDING32)) {
            i = (b[i] & 0xFF) == PADDING ? i + 1 : within(b, i, i + 5 + le(b, i + 1, 4, end), end);
        }
        return i;
    }

    private static int within(byte[] b, int at, long next, int end) {
        if (next > end) {
            throw new IllegalStateException("claims, at byte " + (4 + at) + ", " + (next - at) + " bytes, past the end of"
                    + " what holds them (byte " + (4 + end) + ")");
        }
        return (int) next;
    }

    /** The unsigned little-endian integer of {@code size} bytes at {@code at} (at most 2^40: a length). */
    private static long le(byte[] b, int at, int size, int end) {
        within(b, at, (long) at + size, end);
        long v = 0;
        for (int k = size - 1; k >= 0; k--) {
            v = v << 8 | (b[at + k] & 0xFF);
        }
        return Math.min(v, 1L << 40);
    }

    /**
     * Where the value of the field {@code name} begins in {@code b} (a wire field name or event name, paddings
     * skipped), or -1.
     */
    private static int valueAfter(byte[] b, String name) {
        byte[] n = name.getBytes(StandardCharsets.ISO_8859_1);
        for (int i = 1; i + n.length < b.length; i++) {
            int code = b[i - 1] & 0xFF;
            boolean named = code == FIELD_NAME0 + n.length && n.length <= FIELD_NAME31 - FIELD_NAME0
                    || i >= 2 && (b[i - 1] & 0xFF) == n.length
                    && ((b[i - 2] & 0xFF) == EVENT_NAME || (b[i - 2] & 0xFF) == FIELD_NAME_ANY);
            if (named && Arrays.equals(b, i, i + n.length, n, 0, n.length)) {
                int at = i + n.length;
                while (at < b.length) {
                    int c = b[at] & 0xFF;
                    if (c == PADDING) {
                        at++;
                    } else if (c == PADDING32 && at + 5 <= b.length) {
                        int skip = ByteBuffer.wrap(b, at + 1, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
                        if (skip < 0 || skip > b.length) {
                            return -1;
                        }
                        at += 5 + skip;
                    } else {
                        return at;
                    }
                }
                return -1;
            }
        }
        return -1;
    }

    /** The integer value of the binary wire at {@code at} (small, u8/u16/u32, i8/i16/i32/i64), or -1 (none). */
    private static long integer(byte[] b, int at) {
        if (at < 0) {
            return -1;
        }
        int code = b[at] & 0xFF;
        int size = switch (code) {
            case 0xA1, 0xA4 -> 1;
            case 0xA2, 0xA5 -> 2;
            case 0xA3, 0xA6 -> 4;
            case 0xA7 -> 8;
            default -> 0;
        };
        if (code < 0x80) {
            return code;
        }
        if (size == 0 || at + 1 + size > b.length) {
            return -1;
        }
        ByteBuffer v = ByteBuffer.wrap(b, at + 1, size).order(ByteOrder.LITTLE_ENDIAN);
        return switch (code) {
            case 0xA1 -> v.get() & 0xFFL;
            case 0xA2 -> v.getShort() & 0xFFFFL;
            case 0xA3 -> v.getInt() & 0xFFFF_FFFFL;
            case 0xA4 -> v.get();
            case 0xA5 -> v.getShort();
            case 0xA6 -> v.getInt();
            default -> v.getLong();
        };
    }

    private int intAt(long pos) throws IOException {
        return fill(pos, 4).getInt((int) (pos - windowStart));
    }

    private long longAt(long pos) throws IOException {
        return fill(pos, 8).getLong((int) (pos - windowStart));
    }

    /** Up to {@code n} bytes from {@code pos} (fewer at the end of the file). */
    private byte[] bytes(long pos, int n) throws IOException {
        ByteBuffer w = fill(pos, Math.min(n, (int) Math.max(0, length - pos)));
        byte[] b = new byte[(int) Math.max(0, Math.min(n, windowStart + w.limit() - pos))];
        w.get((int) (pos - windowStart), b);
        return b;
    }

    /** The window, holding {@code n} bytes from {@code pos} (zeros past the end of the file). */
    private ByteBuffer fill(long pos, int n) throws IOException {
        if (windowStart < 0 || pos < windowStart || pos + n > windowStart + window.limit()) {
            window.clear();
            windowStart = pos;
            while (window.hasRemaining() && ch.read(window, windowStart + window.position()) > 0) {
                // read what the file has, up to the window's size
            }
            while (window.position() < Math.min(n, window.capacity())) {
                window.put((byte) 0);
            }
            window.flip();
        }
        return window;
    }
}
