package io.logtail.publish;

import com.sun.jna.Library;
import com.sun.jna.Native;
import java.io.IOException;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Linux {@code syncfs(2)}: writes out every dirty page and inode of one file system in one call, one
 * journal commit. The publisher uses it to make the temporary files of a whole cycle durable before
 * their renames, instead of one fsync per file: same guarantee (each file's data is on disk before the
 * rename that publishes it), a fraction of the cost when thousands of files change (an fsync costs
 * about 4 ms on this machine's disk, 0.3 ms per file with 16 at once; the 10,000 files of 5,000 changed
 * ballots took 2.6 s of fsyncs).
 *
 * <p>The price: syncfs also writes out whatever else is dirty on that file system (the nginx logs, or
 * PostgreSQL's data files when they share it), which the kernel would write within 30 s anyway. Put the
 * publish directory on its own file system to keep that apart (docs/results.md).
 *
 * <p>Called through JNA (already on the class path: Chronicle Queue's {@code net.openhft:posix} uses
 * it). Where it cannot be loaded (not Linux, no libc), {@link #available()} is false and the publisher
 * fsyncs each file.
 */
final class FileSystemSync {
  private static final Logger log = LoggerFactory.getLogger(FileSystemSync.class);
  private static final int O_RDONLY = 0;
  private static final int O_DIRECTORY = 0200000;
  private static final int O_CLOEXEC = 02000000;

  interface LibC extends Library {
    int open(String path, int flags);

    int syncfs(int fd);

    int close(int fd);
  }

  private static final LibC LIBC = load();

  private FileSystemSync() {}

  private static LibC load() {
    if (!System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("linux")) {
      return null;
    }
    try {
      return Native.load("c", LibC.class);
    } catch (Throwable t) {
      log.info("syncfs(2) not available ({}): the publisher fsyncs each file", t.toString());
      return null;
    }
  }

  static boolean available() {
    return LIBC != null;
  }

  /** syncfs on the file system that holds {@code dir}. */
  static void sync(Path dir) throws IOException {
    if (LIBC == null) {
      throw new IOException("syncfs(2) is not available here");
    }
    int fd = LIBC.open(dir.toString(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
      throw new IOException("cannot open " + dir + " for syncfs: errno " + Native.getLastError());
    }
    try {
      if (LIBC.syncfs(fd) != 0) {
        throw new IOException("syncfs of the file system of " + dir + " failed: errno " + Native.getLastError()
            + "; check the disk (dmesg) before trusting the published files");
      }
    } finally {
      LIBC.close(fd);
    }
  }
}
