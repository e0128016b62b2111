package io.logtail.publish;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * Writes a set of files so that a reader (nginx) never sees a partial one: each file and its gzip copy
 * ({@code <file>.gz}, the same content, for nginx's {@code gzip_static}) are written to a temporary
 * file in the same directory ({@code .<name>.tmp}), fsynced, renamed over the old file, and each
 * directory is fsynced once after its renames.
 *
 * <p>Cost: an fsync is about 4 ms on this machine's disk; done one after the other, the 10,000 fsyncs of
 * 5,000 changed ballot files would take 40 s. The files of one {@link #write} are therefore written,
 * fsynced and renamed by a small pool of threads at once (the file system commits their fsyncs
 * together); the {@code last} files (the caller's {@code index.json}) only after all of them, so that a
 * reader who sees a new index finds the ballot files it names. The directory fsync, one per directory
 * and cycle, makes the renames durable.
 *
 * <p>The gzip copy has no file name and time 0 in its header, so the same content gives the same bytes.
 */
final class AtomicFiles {
  /** A file to write: its path and content. */
  record Pending(Path path, byte[] content) {}

  private final ExecutorService pool;
  private final boolean fsync;

  AtomicFiles(ExecutorService pool, boolean fsync) {
    this.pool = pool;
    this.fsync = fsync;
  }

  /**
   * Writes {@code files}, each on its own (temporary file, fsync, rename; the same for its .gz), several
   * at once and in no particular order, then {@code last} one after the other, in order, once all of
   * {@code files} are in place; then fsyncs each directory once. Throws on the first failure (files
   * already renamed stay: each is complete; the temporary files are removed).
   */
  void write(List<Pending> files, List<Pending> last) throws IOException {
    List<Future<?>> futures = new ArrayList<>(files.size());
    for (Pending p : files) {
      futures.add(pool.submit(() -> {
        try {
          writeOne(p);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }));
    }
    IOException failure = null;
    for (Future<?> f : futures) {
      try {
        f.get();
      } catch (ExecutionException e) {
        Throwable c = e.getCause() instanceof UncheckedIOException u ? u.getCause() : e.getCause();
        if (failure == null) {
          failure = c instanceof IOException io ? io : new IOException(c);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        if (failure == null) {
          failure = new IOException("interrupted while writing " + files.size() + " files");
        }
      }
    }
    if (failure != null) {
      for (Pending p : files) {
        Files.deleteIfExists(tmp(p.path()));
        Files.deleteIfExists(tmp(gz(p.path())));
      }
      throw failure;
    }
    for (Pending p : last) {
      writeOne(p);
    }
    if (fsync) {
      Set<Path> dirs = new LinkedHashSet<>();
      for (Pending p : files) {
        dirs.add(p.path().getParent());
      }
      for (Pending p : last) {
        dirs.add(p.path().getParent());
      }
      for (Path d : dirs) {
        fsyncDir(d);
      }
    }
  }

  /** One file: its .gz first, then itself, each through a temporary file. */
  private void writeOne(Pending p) throws IOException {
    Path gzTmp = tmp(gz(p.path()));
    writeTemp(gzTmp, gzip(p.content()), fsync);
    move(gzTmp, gz(p.path()));
    Path t = tmp(p.path());
    writeTemp(t, p.content(), fsync);
    move(t, p.path());
  }

  /** Deletes {@code path} and its gzip copy (a ballot that is no longer in the database). */
  static void delete(Path path) throws IOException {
    Files.deleteIfExists(path);
    Files.deleteIfExists(gz(path));
  }

  /** Removes temporary files a killed publisher left in {@code dir}. */
  static void removeTemps(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return;
    }
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, ".*.tmp")) {
      for (Path p : ds) {
        Files.deleteIfExists(p);
      }
    }
  }

  /** Creates {@code dir} and its missing parents, fsyncing each parent that gained an entry. */
  static void createDirectories(Path dir) throws IOException {
    Path d = dir.toAbsolutePath();
    if (Files.isDirectory(d)) {
      return;
    }
    createDirectories(d.getParent());
    Files.createDirectory(d);
    publicMode(d, DIR_MODE);
    fsyncDir(d.getParent());
  }

  /**
   * The published files are public: readable by nginx's user whatever the umask of the service
   * (logtail.service has UMask=0027 for its private state).
   */
  private static final java.util.Set<java.nio.file.attribute.PosixFilePermission> FILE_MODE =
      java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--");
  private static final java.util.Set<java.nio.file.attribute.PosixFilePermission> DIR_MODE =
      java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x");

  /** Whether files come out 0644 anyway (umask 022): then no chmod per file (a syscall saved 10,000 times a cycle). */
  private static volatile Boolean umaskKeepsFilesPublic;

  private static void publicMode(Path p, java.util.Set<java.nio.file.attribute.PosixFilePermission> mode) throws IOException {
    try {
      if (mode == FILE_MODE) {
        Boolean keeps = umaskKeepsFilesPublic;
        if (keeps == null) {
          keeps = Files.getPosixFilePermissions(p).containsAll(FILE_MODE);
          umaskKeepsFilesPublic = keeps;
        }
        if (keeps) {
          return;
        }
      }
      Files.setPosixFilePermissions(p, mode);
    } catch (UnsupportedOperationException e) {
      // not a POSIX file system: its defaults apply
    }
  }

  static Path gz(Path p) {
    return p.resolveSibling(p.getFileName() + ".gz");
  }

  private static Path tmp(Path p) {
    return p.resolveSibling("." + p.getFileName() + ".tmp");
  }

  /** One raw deflater per writing thread, reset for each file (a new one per file costs zlib's set-up each time). */
  private static final ThreadLocal<Deflater> DEFLATER =
      ThreadLocal.withInitial(() -> new Deflater(Deflater.DEFAULT_COMPRESSION, true));
  private static final byte[] GZIP_HEADER = {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, (byte) 0xff};

  /**
   * {@code content} as a gzip member (RFC 1952): the fixed header (no name, MTIME 0, OS unknown), raw
   * deflate, CRC-32 and size: the same bytes for the same content.
   */
  static byte[] gzip(byte[] content) {
    Deflater d = DEFLATER.get();
    d.reset();
    d.setInput(content);
    d.finish();
    ByteArrayOutputStream out = new ByteArrayOutputStream(content.length / 3 + 64);
    out.write(GZIP_HEADER, 0, GZIP_HEADER.length);
    byte[] buf = new byte[8192];
    while (!d.finished()) {
      int n = d.deflate(buf);
      out.write(buf, 0, n);
    }
    CRC32 crc = new CRC32();
    crc.update(content);
    long c = crc.getValue();
    int len = content.length;
    byte[] trailer = {(byte) c, (byte) (c >> 8), (byte) (c >> 16), (byte) (c >> 24),
        (byte) len, (byte) (len >> 8), (byte) (len >> 16), (byte) (len >> 24)};
    out.write(trailer, 0, trailer.length);
    return out.toByteArray();
  }

  private static void writeTemp(Path tmp, byte[] content, boolean fsync) throws IOException {
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      publicMode(tmp, FILE_MODE);
      ByteBuffer b = ByteBuffer.wrap(content);
      while (b.hasRemaining()) {
        ch.write(b);
      }
      if (fsync) {
        ch.force(true);
      }
    }
  }

  private static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      throw new IOException("cannot rename " + from + " over " + to + " atomically: the publish directory"
          + " must be on a local file system", e);
    }
  }

  static void fsyncDir(Path dir) throws IOException {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    }
  }
}
