package io.logtail.publish;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * The largest seq the publisher has used, kept in a file of its own outside the publish directory
 * ({@code --publish-seq-file}), so that seq never goes back when that directory is emptied (a tmpfs after a
 * reboot). Written before the files of the cycle that uses the seq: temporary file, fsync, rename, fsync of
 * the directory (as {@link AtomicFiles}), one small write and two fsyncs per cycle that changes anything (also with {@code --publish-fsync
 * false}: this file is what must survive). Content: the
 * number in decimal and a newline.
 */
final class SeqFile {
  private SeqFile() {}

  /** The seq in {@code file}, or 0 when there is no file (or {@code file} is null). */
  static long read(Path file) throws IOException {
    if (file == null) {
      return 0;
    }
    String text;
    try {
      text = Files.readString(file, StandardCharsets.US_ASCII).trim();
    } catch (NoSuchFileException e) {
      return 0;
    }
    try {
      long v = Long.parseLong(text);
      if (v < 0) {
        throw new NumberFormatException("negative");
      }
      return v;
    } catch (NumberFormatException e) {
      throw new IOException(file + " does not hold a seq (\"" + (text.length() > 40 ? text.substring(0, 40) + "..." : text)
          + "\"): it is written only by the publisher; restore it or delete it (seq is then read back from the published"
          + " files)", e);
    }
  }

  /** Stores {@code seq} in {@code file} (nothing when {@code file} is null). */
  static void write(Path file, long seq) throws IOException {
    if (file == null) {
      return;
    }
    Path dir = file.getParent();
    Files.createDirectories(dir);
    Path tmp = dir.resolve("." + file.getFileName() + ".tmp");
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      ByteBuffer b = ByteBuffer.wrap((seq + "\n").getBytes(StandardCharsets.US_ASCII));
      while (b.hasRemaining()) {
        ch.write(b);
      }
      ch.force(true);
    }
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    AtomicFiles.fsyncDir(dir);
  }
}
