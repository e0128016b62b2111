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
import java.util.zip.GZIPOutputStream;

/**
 * Writes a set of files so that a reader (nginx) never sees a partial one: each file and its gzip copy
 * ({@code <file>.gz}, the same content, for nginx's {@code gzip_static}) are written to a temporary
 * file in the same directory ({@code .<name>.tmp}), fsynced, renamed over the old file, and each
 * directory is fsynced once after its renames.
 *
 * <p>Cost: an fsync is about 4 ms on this machine's disk; done one after the other, the 10,000 fsyncs of
 * 5,000 changed ballot files would take 40 s. The temporary files of one {@link #write} are therefore
 * written and fsynced by a small pool of threads at once (the file system commits their fsyncs
 * together), and only then renamed, in the caller's order, on the caller's thread: the caller puts
 * {@code index.json} last, so that a reader who sees a new index finds the ballot files it names.
 * The directory fsync, one per directory, makes the renames durable.
 *
 * <p>The gzip copy has no file name and time 0 in its header, so the same content gives the same bytes.
 */
final class AtomicFiles {
  /** A file to write: its path and content. */
  record Pending(Path path, byte[] content) {}

  private final ExecutorService pool;

  AtomicFiles(ExecutorService pool) {
    this.pool = pool;
  }

  /** Writes {@code files} (renamed in this order); throws on the first failure, leaving no temporary file. */
  void write(List<Pending> files) throws IOException {
    if (files.isEmpty()) {
      return;
    }
    List<Future<?>> futures = new ArrayList<>(files.size());
    for (Pending p : files) {
      futures.add(pool.submit(() -> {
        try {
          writeTemp(tmp(p.path()), p.content());
          writeTemp(tmp(gz(p.path())), gzip(p.content()));
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
    Set<Path> dirs = new LinkedHashSet<>();
    for (Pending p : files) {
      move(tmp(gz(p.path())), gz(p.path()));
      move(tmp(p.path()), p.path());
      dirs.add(p.path().getParent());
    }
    for (Path d : dirs) {
      fsyncDir(d);
    }
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
    fsyncDir(d.getParent());
  }

  static Path gz(Path p) {
    return p.resolveSibling(p.getFileName() + ".gz");
  }

  private static Path tmp(Path p) {
    return p.resolveSibling("." + p.getFileName() + ".tmp");
  }

  static byte[] gzip(byte[] content) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream(content.length / 4 + 64);
    try (GZIPOutputStream z = new GZIPOutputStream(out, 8192)) {   // the JDK's header: no name, MTIME 0
      z.write(content);
    }
    return out.toByteArray();
  }

  private static void writeTemp(Path tmp, byte[] content) throws IOException {
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      ByteBuffer b = ByteBuffer.wrap(content);
      while (b.hasRemaining()) {
        ch.write(b);
      }
      ch.force(true);
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
