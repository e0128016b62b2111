package io.logtail.binlog;

import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.bytes.MappedBytes;
import net.openhft.chronicle.bytes.SyncMode;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.RollCycle;
import net.openhft.chronicle.queue.RollCycles;
import net.openhft.chronicle.queue.TailerDirection;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import net.openhft.chronicle.wire.DocumentContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NavigableSet;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The binlog: every committed batch's byte ranges, one {@link BinlogRecord} per Chronicle Queue document, encoded by
 * {@link BinlogCodec} (versioned, CRC32C-checked).
 *
 * <h2>One writer</h2>
 * A binlog directory has exactly one writer. {@link #open} takes an exclusive {@link FileLock} on
 * {@value #LOCK_FILE} in the directory and fails with {@link BinlogLockedException} when another process (or
 * another open {@code Binlog} in this JVM) holds it. The lock is the operating system's, so it vanishes with the
 * process that held it: a lock file left by a {@code kill -9} does not block the next start. Read-only opens
 * ({@link BinlogConfig#withReadOnly}) take no lock and may run beside the writer.
 *
 * <h2>Durability</h2>
 * Appends go to memory-mapped cycle files. They survive the death of the process (the page cache keeps them); a
 * document being written when the process died is never visible to readers (Chronicle's header is marked complete
 * last). To survive a crash of the machine an append must be followed by {@link #sync()}, which msyncs
 * ({@link SyncMode#SYNC}) the written part of the current cycle file and, when a new cycle file was started, fsyncs
 * the directory. {@link #append} syncs by itself according to {@link BinlogConfig}; {@link #syncIfDue()} is for a
 * caller's timer; {@link #close()} always syncs.
 *
 * <h2>Threads</h2>
 * All methods are synchronized; a {@link BinlogCursor} belongs to the thread that iterates it.
 *
 * <h2>Failures</h2>
 * A failed append or sync throws {@link BinlogWriteException} and leaves the binlog refusing further appends
 * (its state after, say, a fault in a mapped page is unknown): close it and open it again. Before each append the
 * usable space of the file system is checked against {@link BinlogConfig#minFreeBytes()}.
 */
public final class Binlog implements AutoCloseable {
    /** The lock file of the one writer, in the binlog directory. */
    public static final String LOCK_FILE = "binlog.lock";
    private static final Logger log = LoggerFactory.getLogger(Binlog.class);

    private final Path dir;
    private final BinlogConfig config;
    private final RollCycle rollCycle;
    private final SingleChronicleQueue queue;
    private final ExcerptAppender appender;
    private final FileChannel lockChannel;
    private final FileStore store;
    private long unsynced;
    private long oldestUnsyncedNanos;
    /** The lock file's identity (device and inode) when it was locked: gone or different = directory deleted. */
    private final Object lockFileKey;
    private int lastSyncedCycle = Integer.MIN_VALUE;
    private long appendedCount;
    private Throwable failure;
    private boolean closed;

    private Binlog(Path dir, BinlogConfig config, RollCycle rollCycle, SingleChronicleQueue queue,
                   ExcerptAppender appender, FileChannel lockChannel, FileStore store, Object lockFileKey) {
        this.lockFileKey = lockFileKey;
        this.dir = dir;
        this.config = config;
        this.rollCycle = rollCycle;
        this.queue = queue;
        this.appender = appender;
        this.lockChannel = lockChannel;
        this.store = store;
    }

    /**
     * Opens (creating if needed) the binlog in {@code dir}.
     *
     * @throws BinlogLockedException when another writer holds the directory
     * @throws BinlogWriteException  when the directory cannot be created or opened
     */
    public static Binlog open(Path dir, BinlogConfig config) {
        dir = dir.toAbsolutePath();
        RollCycle rc = switch (config.roll()) {
            case HOURLY -> RollCycles.FAST_HOURLY;
            case DAILY -> RollCycles.FAST_DAILY;
            case WEEKLY -> RollCycles.WEEKLY;
        };
        FileChannel lockChannel = null;
        if (config.readOnly()) {
            if (!Files.isDirectory(dir)) {
                throw new BinlogException("no binlog at " + dir + " (not a directory)");
            }
        } else {
            try {
                Files.createDirectories(dir);
            } catch (IOException e) {
                throw new BinlogWriteException("cannot create the binlog directory " + dir + ": " + e, e);
            }
            lockChannel = lock(dir);
            try {
                removeTornMetadata(dir);
            } catch (IOException e) {
                throw new BinlogWriteException("cannot remove the unfinished metadata of the binlog " + dir + ": " + e
                        + "; remove " + dir.resolve("metadata.cq4t") + " by hand if no *.cq4 file is there", e);
            }
        }
        SingleChronicleQueue queue = null;
        try {
            FileStore store = Files.getFileStore(dir);
            // the cycle's time never goes back, neither when the wall clock is set back nor across restarts:
            // Chronicle would otherwise append into an earlier cycle's file, before records already written there
            // (measured: after a jump back across midnight, a reader saw [4, 2, 3] of records 1 to 5)
            AtomicLong floor = new AtomicLong(Long.MIN_VALUE);
            queue = SingleChronicleQueueBuilder.binary(dir)
                    .rollCycle(rc)
                    .syncMode(SyncMode.SYNC)
                    .timeoutMS(config.headerTimeout().toMillis())
                    .timeProvider(() -> floor.accumulateAndGet(config.clock().millis(), Math::max))
                    .readOnly(config.readOnly())
                    .build();
            checkCycleFileLengths(dir, queue.blockSize(), queue.overlapSize(), config.readOnly());
            checkCycleFiles(dir, config.readOnly());
            int lastCycle = queue.lastCycle();
            if (lastCycle != Integer.MIN_VALUE) {
                floor.accumulateAndGet((long) lastCycle * rc.lengthInMillis(), Math::max);
            }
            ExcerptAppender appender = null;
            if (!config.readOnly()) {
                appender = queue.createAppender();
                appender.singleThreadedCheckDisabled(true);
            }
            Object lockKey = config.readOnly() ? null
                    : Files.readAttributes(dir.resolve(LOCK_FILE), BasicFileAttributes.class).fileKey();
            Binlog b = new Binlog(dir, config, rc, queue, appender, lockChannel, store, lockKey);
            log.debug("opened binlog {} ({})", dir, config);
            return b;
        } catch (Exception | Error e) {
            if (queue != null) {
                closeQuietly(queue);
            }
            if (lockChannel != null) {
                closeQuietly(lockChannel);
            }
            if (e instanceof BinlogException be) {
                throw be;
            }
            throw new BinlogWriteException("cannot open the binlog in " + dir + ": " + e, e);
        }
    }

    /**
     * A cycle file is created at its first mapping's length (block + overlap, 80 MiB) and only grows, to the end of a
     * later mapping (block * (k + 1) + overlap); a shorter one was cut (a crash of the machine before the file's
     * length reached the disk, a partial copy). Chronicle maps the first 80 MiB regardless, and a read beyond the end
     * of the file is a SIGBUS, which HotSpot raises as an {@link InternalError} at some later point of the thread,
     * outside any catch here (found by {@code BinlogReaderFuzzTest}). So: a writer extends such a file with zeros to
     * the end of its last mapping, as Chronicle's own mapping would (the records cut off then fail their CRC and are
     * healed from the database); a reader refuses a file shorter than 80 MiB (a longer one is left to
     * {@link #checkCycleFiles}).
     */
    private static void checkCycleFileLengths(Path dir, long block, long overlap, boolean readOnly)
            throws IOException {
        long minLength = block + overlap;
        for (Path f : cycleFiles(dir)) {
            long length = Files.size(f);
            long mapped = minLength + Math.max(0, -Math.floorDiv(minLength - length, block)) * block;
            if (length == mapped || readOnly && length >= minLength) {
                continue;
            }
            if (readOnly) {
                throw new BinlogCorruptException("binlog cycle file " + f + " is " + length + " bytes, shorter than the "
                        + minLength + " every cycle file has: it was cut (a crash of the machine, or a partial copy)."
                        + " Start the worker once (it extends the file, and rebuilds the records cut off from the"
                        + " database), or move the file out of the binlog directory (docs/recovery.md)");
            }
            log.warn("binlog cycle file {} is {} bytes, shorter than the {} of Chronicle's mappings (cut by a crash?);"
                    + " extending it with zeros: records cut off do not decode and are rebuilt from the database",
                    f, length, mapped);
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
                ch.write(ByteBuffer.allocate(1), mapped - 1);
                ch.force(true);
            }
        }
    }

    /**
     * Damage that leads Chronicle past the end of a cycle file (a length, an index entry; found by
     * {@code BinlogReaderFuzzTest}): a read-only queue maps the file without extending it, so that read is a SIGBUS,
     * raised by HotSpot as an {@link InternalError} at a later point of the thread, outside any catch here; a writer's
     * queue grows the file instead, up to a GiB per damaged length, and allocates what it then reads (an
     * {@link OutOfMemoryError}). {@link CycleFileCheck} finds such a file before Chronicle has mapped it (it has not
     * yet at this point); it is refused. A reader checks every file; a writer the newest only, which its start reads
     * (a walk of every file at each worker start would read the whole binlog).
     */
    private static void checkCycleFiles(Path dir, boolean readOnly) throws IOException {
        List<Path> files = cycleFiles(dir);
        for (Path f : readOnly ? files : files.subList(Math.max(0, files.size() - 1), files.size())) {
            String problem = CycleFileCheck.problem(f);
            if (problem != null) {
                throw new BinlogCorruptException("binlog cycle file " + f + " is damaged: " + problem + "; it cannot"
                        + " be read. Stop logtail, move the file out of the binlog directory (keep it for analysis) and"
                        + " start logtail again: the records the binlog lacks are rebuilt from the database (HEAL),"
                        + " unless the database was restored from a backup since (docs/recovery.md)");
            }
        }
    }

    /**
     * A writer killed while Chronicle created the binlog's {@code metadata.cq4t} (its very first start) leaves a file
     * whose header is never completed; every later open then waits for it and fails with "Unable to claim exclusive
     * lock" (found by WorkerTortureIT, which kills workers during their start). With no cycle file there is no record
     * to lose: the metadata is removed and created again. Called under the binlog's lock, so no other writer is
     * creating it.
     */
    private static void removeTornMetadata(Path dir) throws IOException {
        if (!cycleFiles(dir).isEmpty()) {
            return;
        }
        try (var s = Files.list(dir)) {
            for (Path p : s.filter(p -> p.getFileName().toString().endsWith(".cq4t")).toList()) {
                log.warn("binlog {} has no cycle file yet but a {} from a start that did not finish (killed while"
                        + " creating the binlog?): removing it, it is created again", dir, p.getFileName());
                Files.delete(p);
            }
        }
    }

    private static List<Path> cycleFiles(Path dir) throws IOException {
        try (var s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(SingleChronicleQueue.SUFFIX)).sorted().toList();
        }
    }

    private static FileChannel lock(Path dir) {
        Path lockFile = dir.resolve(LOCK_FILE);
        FileChannel ch;
        try {
            ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new BinlogWriteException("cannot open the binlog lock file " + lockFile + ": " + e, e);
        }
        FileLock lock;
        try {
            lock = ch.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        } catch (IOException e) {
            closeQuietly(ch);
            throw new BinlogWriteException("cannot lock " + lockFile + ": " + e, e);
        }
        if (lock == null) {
            String holder = readHolder(ch);
            closeQuietly(ch);
            throw new BinlogLockedException("the binlog " + dir + " is held by another logtail worker"
                    + (holder.isEmpty() ? "" : " (" + holder + ")")
                    + "; a binlog has exactly one writer: stop that worker, or give this one its own binlog directory");
        }
        try {
            String me = "pid " + ProcessHandle.current().pid() + " since " + Instant.now() + "\n";
            ch.truncate(0);
            ch.write(ByteBuffer.wrap(me.getBytes(StandardCharsets.UTF_8)), 0);
        } catch (IOException e) {
            closeQuietly(ch);
            throw new BinlogWriteException("cannot write the binlog lock file " + lockFile + ": " + e, e);
        }
        return ch;
    }

    private static String readHolder(FileChannel ch) {
        try {
            ByteBuffer buf = ByteBuffer.allocate(200);
            int n = ch.read(buf, 0);
            return n <= 0 ? "" : new String(buf.array(), 0, n, StandardCharsets.UTF_8).trim();
        } catch (IOException e) {
            return "";
        }
    }

    public Path dir() {
        return dir;
    }

    public BinlogConfig config() {
        return config;
    }

    /**
     * Appends one record. It is visible to readers at once and survives the death of this process; it survives a
     * crash of the machine after the next {@link #sync()} (which this call makes itself when the configured cadence
     * says so).
     *
     * @return the Chronicle index of the new document
     * @throws BinlogWriteException when the record could not be written (disk full, I/O error, earlier failure)
     */
    public synchronized long append(BinlogRecord record) {
        ensureWritable();
        checkStillThere();
        byte[] payload = BinlogCodec.encode(record);
        checkSpace(payload.length);
        long index;
        try {
            writeDocument(payload);
            index = appender.lastIndexAppended();
        } catch (Exception | Error e) {   // Exception: Chronicle throws checked ones unchecked (StreamCorruptedException)
            failure = e;
            String gone = deletedProblem();
            if (gone != null) {
                throw new BinlogWriteException(gone, e);
            }
            throw new BinlogWriteException("binlog append of batch " + record.batchId() + " to " + dir
                    + " failed (is the disk full or the file system read-only?): " + e, e);
        }
        appendedCount++;
        long now = config.nanoTime().getAsLong();
        if (unsynced++ == 0) {
            oldestUnsyncedNanos = now;
        }
        if (config.syncEvery().isZero()
                || (config.syncEveryRecords() > 0 && unsynced >= config.syncEveryRecords())
                || now - oldestUnsyncedNanos >= config.syncEvery().toNanos()) {
            sync();
        }
        return index;
    }

    /**
     * Writes one document and reads it back before publishing it. A write into a mapped page that the file system
     * cannot back (disk full) raises SIGBUS, which HotSpot turns into an {@link InternalError}; in compiled code
     * that error is only thrown later ("a fault occurred in a recent unsafe memory access operation"), after the
     * faulting store was skipped. Measured here on a full tmpfs: without the read-back, the document was published
     * with its last bytes missing (zeros) and the error only surfaced in the next append. With it, the missing bytes
     * are seen at once and the document is rolled back, never made visible.
     */
    private void writeDocument(byte[] payload) {
        DocumentContext dc = appender.writingDocument();
        try {
            Bytes<?> bytes = dc.wire().bytes();
            long start = bytes.writePosition();
            bytes.write(payload);
            for (int i = 0; i < payload.length; i++) {
                if (bytes.readByte(start + i) != payload[i]) {
                    throw new BinlogWriteException("binlog write did not land: byte " + i + " of " + payload.length
                            + " reads back different (a page of the mapped file could not be backed: disk full?)");
                }
            }
        } catch (Exception | Error e) {
            dc.rollbackOnClose();
            try {
                dc.close();
            } catch (RuntimeException | Error e2) {
                e.addSuppressed(e2);
            }
            throw e;
        }
        dc.close();
    }

    private void checkSpace(int payloadLength) {
        if (config.minFreeBytes() < 0) {
            return;
        }
        long usable;
        try {
            usable = store.getUsableSpace();
        } catch (IOException e) {
            String gone = deletedProblem();
            throw new BinlogWriteException(gone != null ? gone
                    : "cannot tell the free space of the binlog's file system " + dir + ": " + e, e);
        }
        if (usable < config.minFreeBytes() + payloadLength) {
            throw new BinlogWriteException("binlog disk full: " + usable + " bytes usable in " + dir + ", at least "
                    + config.minFreeBytes() + " are kept free; nothing was appended. Free space on that file system (or"
                    + " move the binlog: docs/recovery.md), then start the worker again: what is committed to the"
                    + " database is kept, and the binlog's missing records are rebuilt from it (HEAL).");
        }
    }

    private void ensureWritable() {
        if (closed) {
            throw new BinlogException("the binlog " + dir + " is closed");
        }
        if (config.readOnly()) {
            throw new BinlogException("the binlog " + dir + " was opened read-only");
        }
        if (failure != null) {
            throw new BinlogWriteException("the binlog " + dir + " failed earlier (" + failure
                    + "); close and reopen it", failure);
        }
    }

    /**
     * Makes every appended record durable against a crash of the machine (msync, and fsync of the directory).
     * Also checks that the directory is still this binlog's: when it was deleted (or replaced) while open, the
     * appends since went to files no one will find again, so this throws, and the binlog refuses further appends.
     */
    public synchronized void sync() {
        if (closed || config.readOnly() || failure != null) {
            if (failure != null) {
                throw new BinlogWriteException("the binlog " + dir + " failed earlier (" + failure
                        + "); its last appends may not be durable", failure);
            }
            return;
        }
        checkStillThere();
        try {
            appender.sync();
            int cycle = appender.cycle();
            if (cycle != lastSyncedCycle && appendedCount > 0) {
                fsyncDirectory();
                lastSyncedCycle = cycle;
            }
        } catch (Exception | Error e) {
            failure = e;
            String gone = deletedProblem();   // deleted between the check and the sync
            throw new BinlogWriteException(gone != null ? gone : "binlog sync of " + dir + " failed: " + e, e);
        }
        unsynced = 0;
    }

    private void checkStillThere() {
        String gone = deletedProblem();
        if (gone != null) {
            failure = new BinlogWriteException("binlog directory deleted or replaced");
            throw new BinlogWriteException(gone);
        }
    }

    /** What to tell the operator when the directory is no longer this binlog's (deleted or replaced), else null. */
    private String deletedProblem() {
        if (lockFileKey == null) {
            return null;
        }
        Path lockFile = dir.resolve(LOCK_FILE);
        Object now;
        try {
            now = Files.readAttributes(lockFile, BasicFileAttributes.class).fileKey();
        } catch (IOException e) {
            now = null;
        }
        if (lockFileKey.equals(now)) {
            return null;
        }
        return "the binlog directory " + dir + " was deleted or replaced while this worker wrote to it (its lock file "
                + lockFile + (now == null ? " is gone" : " is another file") + "): the records appended since are"
                + " lost with it. The worker stops; nothing committed to the database is lost. Start it again: it"
                + " rebuilds the binlog's missing records from the database (HEAL). Do not delete a binlog of a"
                + " running worker (docs/recovery.md).";
    }

    /** Syncs when the oldest unsynced record is older than {@link BinlogConfig#syncEvery()}; for a caller's timer. */
    public synchronized boolean syncIfDue() {
        if (unsynced > 0 && config.nanoTime().getAsLong() - oldestUnsyncedNanos >= config.syncEvery().toNanos()) {
            sync();
            return true;
        }
        return false;
    }

    /** Records appended and not yet synced. */
    public synchronized long unsyncedCount() {
        return unsynced;
    }

    private void fsyncDirectory() throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    /**
     * The last record that decodes with a valid CRC. When documents after it are bad, they are reported
     * (logged as a warning); {@link #scanLast()} gives the details.
     */
    public Optional<BinlogRecord> last() {
        LastScan scan = scanLast();
        if (!scan.clean()) {
            log.warn("binlog {}: the last {} document(s) ({} bytes) do not decode; last good record is index {}: {}",
                    dir, scan.badRecords(), scan.badBytes(), Long.toHexString(scan.index()), scan.problems());
        }
        return scan.last();
    }

    /** Walks back from the last document to the last one that decodes, counting the bad ones on the way. */
    public synchronized LastScan scanLast() {
        ensureOpen();
        List<String> problems = new ArrayList<>();
        long lastIndex;
        try {
            lastIndex = queue.lastIndex();
        } catch (Exception | InternalError | AssertionError e) {
            // a damaged cycle file (found by BinlogReaderFuzzTest): Chronicle's own checks, or a fault in a page
            // of a file cut shorter than its index says
            throw new BinlogCorruptException("binlog " + dir + " cannot be read back from its end (is a cycle file"
                    + " damaged? see docs/recovery.md): " + e, e);
        }
        if (lastIndex < 0) {
            return new LastScan(Optional.empty(), -1, 0, 0, problems);
        }
        int bad = 0;
        long badBytes = 0;
        try (ExcerptTailer tailer = queue.createTailer()) {
            tailer.singleThreadedCheckDisabled(true);
            tailer.direction(TailerDirection.BACKWARD);
            if (!tailer.moveToIndex(lastIndex)) {
                throw new BinlogCorruptException("binlog " + dir + ": cannot move to its last index "
                        + Long.toHexString(lastIndex));
            }
            while (true) {
                try (DocumentContext dc = tailer.readingDocument()) {
                    if (!dc.isPresent()) {
                        break;
                    }
                    long index = dc.index();
                    Bytes<?> bytes = dc.wire().bytes();
                    String beyond = beyondEndOfFile(bytes);
                    if (beyond != null) {
                        bad++;
                        badBytes += Math.max(0, bytes.readRemaining());
                        problems.add("index " + Long.toHexString(index) + ": " + beyond);
                        continue;
                    }
                    byte[] payload = new byte[(int) bytes.readRemaining()];
                    bytes.read(payload);
                    try {
                        BinlogRecord r = BinlogCodec.decode(payload);
                        return new LastScan(Optional.of(r), index, bad, badBytes, problems);
                    } catch (BinlogCorruptException e) {
                        bad++;
                        badBytes += payload.length;
                        problems.add("index " + Long.toHexString(index) + ": " + e.getMessage());
                    }
                }
            }
        } catch (BinlogException e) {
            throw e;
        } catch (Exception | InternalError | AssertionError e) {
            throw new BinlogCorruptException("binlog " + dir + " cannot be read back from its end (is a cycle file"
                    + " damaged? see docs/recovery.md): " + e, e);
        }
        return new LastScan(Optional.empty(), -1, bad, badBytes, problems);
    }

    /** Records matching {@code filter}, oldest first; a document that does not decode throws. */
    public BinlogCursor read(BinlogFilter filter) {
        return read(filter, false);
    }

    /**
     * Records matching {@code filter}, oldest first.
     *
     * @param skipCorrupt when true, documents that do not decode are skipped and counted
     *                    ({@link BinlogCursor#corruptSkipped()}) and logged; when false, they throw
     *                    {@link BinlogCorruptException} from {@code hasNext()}
     */
    public synchronized BinlogCursor read(BinlogFilter filter, boolean skipCorrupt) {
        ensureOpen();
        ExcerptTailer tailer = null;
        try {
            tailer = queue.createTailer();
            tailer.singleThreadedCheckDisabled(true);
            tailer.toStart();
        } catch (Exception | InternalError | AssertionError e) {
            if (tailer != null) {
                closeQuietly(tailer);
            }
            throw new BinlogCorruptException("binlog " + dir + " cannot be read from its start (is a cycle file"
                    + " damaged? see docs/recovery.md): " + e, e);
        }
        return new BinlogCursor(tailer, filter, skipCorrupt);
    }

    /**
     * Deletes whole cycle files that ended before {@code now - retention}. Never deletes the current cycle's file,
     * nor the file holding the last record.
     *
     * @return the files deleted
     */
    public synchronized List<Path> prune(Duration retention) {
        ensureOpen();
        if (config.readOnly()) {
            throw new BinlogException("the binlog " + dir + " was opened read-only; prune needs the writer");
        }
        long cutoff = config.clock().millis() - retention.toMillis();
        queue.refreshDirectoryListing();
        int first = queue.firstCycle();
        int last = queue.lastCycle();
        List<Path> deleted = new ArrayList<>();
        if (first == Integer.MAX_VALUE || last == Integer.MIN_VALUE || first > last) {
            return deleted;
        }
        int current = queue.cycle();
        long length = rollCycle.lengthInMillis();
        DateTimeFormatter fmt = DateTimeFormatter.ofPattern(rollCycle.format()).withZone(ZoneOffset.UTC);
        NavigableSet<Long> cycles = queue.listCyclesBetween(first, last);
        for (long cycle : cycles) {
            if (cycle == current || cycle == last || (cycle + 1) * length > cutoff) {
                continue;
            }
            Path file = dir.resolve(fmt.format(Instant.ofEpochMilli(cycle * length)) + SingleChronicleQueue.SUFFIX);
            try {
                if (Files.deleteIfExists(file)) {
                    deleted.add(file);
                } else {
                    log.warn("binlog prune: no file {} for cycle {}", file, cycle);
                }
            } catch (IOException e) {
                throw new BinlogWriteException("binlog prune cannot delete " + file + ": " + e, e);
            }
        }
        if (!deleted.isEmpty()) {
            queue.refreshDirectoryListing();
            log.info("binlog prune: deleted {} cycle file(s) older than {} from {}", deleted.size(), retention, dir);
        }
        return deleted;
    }

    private void ensureOpen() {
        if (closed) {
            throw new BinlogException("the binlog " + dir + " is closed");
        }
    }

    /** Syncs (unless an append failed), then releases the files and the writer lock. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        BinlogException syncFailure = null;
        try {
            if (!config.readOnly() && failure == null && unsynced > 0) {
                sync();
            }
        } catch (BinlogException e) {
            syncFailure = e;
        } finally {
            closed = true;
            if (appender != null) {
                closeQuietly(appender);
            }
            closeQuietly(queue);
            if (lockChannel != null) {
                closeQuietly(lockChannel);
            }
        }
        if (syncFailure != null) {
            throw syncFailure;
        }
    }

    /**
     * Null when the document's bytes lie within its cycle file, else what is wrong: a damaged length that reaches
     * past the end of the file. Reading it would touch a mapped page with no file behind it: a SIGBUS, raised by
     * HotSpot as an InternalError at some later point of the thread, outside any catch (BinlogReaderFuzzTest).
     */
    private static String beyondEndOfFile(Bytes<?> bytes) {
        if (!(bytes instanceof MappedBytes mb)) {
            return null;
        }
        long end = bytes.readLimit();
        try {
            long length = mb.mappedFile().raf().length();
            return end <= length ? null
                    : "its length reaches byte " + end + ", past the end of its cycle file (" + length + " bytes)";
        } catch (IOException | RuntimeException e) {
            return "the length of its cycle file cannot be read: " + e;
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            log.debug("closing {}: {}", c, e.toString());
        }
    }

    /** Iterates records oldest first. Not thread-safe; close it when done. */
    public final class BinlogCursor implements Iterator<BinlogEntry>, AutoCloseable {
        private final ExcerptTailer tailer;
        private final BinlogFilter filter;
        private final boolean skipCorrupt;
        private BinlogEntry next;
        private long corruptSkipped;
        private boolean done;

        private BinlogCursor(ExcerptTailer tailer, BinlogFilter filter, boolean skipCorrupt) {
            this.tailer = tailer;
            this.filter = filter;
            this.skipCorrupt = skipCorrupt;
        }

        @Override
        public boolean hasNext() {
            while (next == null && !done) {
                long index = -1;
                byte[] payload;
                try (DocumentContext dc = tailer.readingDocument()) {
                    if (!dc.isPresent()) {
                        done = true;
                        return false;
                    }
                    index = dc.index();
                    Bytes<?> bytes = dc.wire().bytes();
                    String beyond = beyondEndOfFile(bytes);
                    if (beyond != null) {
                        // nothing after it can be found: its length is all that leads to the next document
                        done = true;
                        String msg = "binlog " + dir + " document at index " + Long.toHexString(index) + ": " + beyond
                                + "; the rest of the binlog cannot be read";
                        if (!skipCorrupt) {
                            throw new BinlogCorruptException(msg);
                        }
                        corruptSkipped++;
                        log.warn("{}", msg);
                        return false;
                    }
                    payload = new byte[(int) bytes.readRemaining()];
                    bytes.read(payload);
                } catch (BinlogException e) {
                    throw e;
                } catch (Exception | InternalError | AssertionError e) {
                    // InternalError: a fault in a mapped page (e.g. tmpfs full while paging a hole in, or a file cut
                    // shorter than its header says); AssertionError: Chronicle's own checks, with -ea
                    done = true;
                    throw new BinlogCorruptException("binlog " + dir + " cannot be read after index "
                            + Long.toHexString(index) + ": " + e, e);
                }
                BinlogRecord r;
                try {
                    r = BinlogCodec.decode(payload);
                } catch (BinlogCorruptException e) {
                    String msg = "binlog " + dir + " document at index " + Long.toHexString(index) + " ("
                            + payload.length + " bytes) is corrupt: " + e.getMessage();
                    if (!skipCorrupt) {
                        throw new BinlogCorruptException(msg, e);
                    }
                    corruptSkipped++;
                    log.warn("{}; skipped", msg);
                    continue;
                }
                if (filter.test(r)) {
                    next = new BinlogEntry(index, r);
                }
            }
            return next != null;
        }

        @Override
        public BinlogEntry next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            BinlogEntry e = next;
            next = null;
            return e;
        }

        /** Documents skipped because they did not decode (only with {@code skipCorrupt}). */
        public long corruptSkipped() {
            return corruptSkipped;
        }

        @Override
        public void close() {
            tailer.close();
        }
    }
}
