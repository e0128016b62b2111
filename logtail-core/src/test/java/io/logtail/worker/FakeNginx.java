package io.logtail.worker;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.zip.GZIPOutputStream;

/**
 * Appends lines to an access log the way nginx does (O_APPEND writes of whole buffers), and rotates it
 * the way logrotate does: rename + reopen (with older files shifted and, with delaycompress, the
 * second-newest gzipped), or copytruncate. Counts the bytes of every stream it wrote.
 *
 * <p>Writes and rotations are synchronized with each other: a copytruncate here is atomic with respect
 * to this nginx's writes, so that no line is lost by the simulation (a real nginx keeps writing between
 * logrotate's copy and its truncate, and those lines are in neither file: docs/recovery.md).
 */
public final class FakeNginx implements AutoCloseable {
  private final Path log;
  private FileChannel out;
  private long written;
  private int rotations;

  public FakeNginx(Path log) throws IOException {
    this.log = log;
    open();
  }

  private void open() throws IOException {
    out = FileChannel.open(log, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
  }

  public synchronized void write(String lines) throws IOException {
    byte[] b = lines.getBytes(StandardCharsets.UTF_8);
    var buf = java.nio.ByteBuffer.wrap(b);
    while (buf.hasRemaining()) {
      out.write(buf);
    }
    written += b.length;
  }

  /** Appends the next {@code lines} lines of {@code gen} in one write. */
  public void write(io.logtail.gen.LogGenerator gen, int lines) throws IOException {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < lines; i++) {
      sb.append(gen.nextLine());
    }
    write(sb.toString());
  }

  /** logrotate with create + delaycompress, then nginx's reopen on USR1. */
  public synchronized void rotateRename() throws IOException {
    rotations++;
    shiftAndCompress();
    Path one = log.resolveSibling(log.getFileName() + ".1");
    Files.move(log, one, StandardCopyOption.ATOMIC_MOVE);
    // nginx keeps writing to the renamed file until it reopens
    write("");
    out.close();
    open();
  }

  /**
   * logrotate with copytruncate + delaycompress, the way it names files: older files shifted, the
   * second-newest gzipped, the live file copied to {@code .1} (through a temporary name, so that a reader
   * never sees a half-copied {@code .1}) and then truncated in place. nginx keeps its descriptor (it
   * writes with O_APPEND, so the next write lands at the new end, 0). No write of this nginx happens
   * between the copy and the truncate.
   */
  public synchronized void rotateCopyTruncate() throws IOException {
    rotations++;
    shiftAndCompress();
    Path tmp = log.resolveSibling("." + log.getFileName() + ".copying");
    Files.copy(log, tmp, StandardCopyOption.REPLACE_EXISTING);
    Files.setLastModifiedTime(tmp, Files.getLastModifiedTime(log));
    Files.move(tmp, log.resolveSibling(log.getFileName() + ".1"), StandardCopyOption.ATOMIC_MOVE);
    out.truncate(0);
  }

  private void shiftAndCompress() throws IOException {
    Path dir = log.getParent();
    String name = log.getFileName().toString();
    // shift: .N.gz -> .N+1.gz ; .1 -> .2 then gzip .2 (delaycompress)
    for (int i = 98; i >= 2; i--) {
      Path gz = dir.resolve(name + "." + i + ".gz");
      if (Files.exists(gz)) {
        Files.move(gz, dir.resolve(name + "." + (i + 1) + ".gz"), StandardCopyOption.ATOMIC_MOVE);
      }
    }
    Path one = dir.resolve(name + ".1");
    if (Files.exists(one)) {
      Path two = dir.resolve(name + ".2");
      Files.move(one, two, StandardCopyOption.ATOMIC_MOVE);
      gzip(two, dir.resolve(name + ".2.gz"));
      Files.delete(two);
    }
  }

  /** logrotate's copytruncate: copy, then truncate the live file in place. */
  public synchronized void copyTruncate() throws IOException {
    rotations++;
    Path dir = log.getParent();
    Path copy = dir.resolve(log.getFileName() + ".ct" + rotations);
    Files.copy(log, copy);
    out.truncate(0);
  }

  public static void gzip(Path from, Path to) throws IOException {
    // like gzip(1): the .gz grows in place while it is written (readers must wait for its end)
    try (InputStream in = Files.newInputStream(from);
        OutputStream o = new GZIPOutputStream(Files.newOutputStream(to))) {
      in.transferTo(o);
    }
    Files.setLastModifiedTime(to, Files.getLastModifiedTime(from)); // gzip(1) keeps the mtime
  }

  public synchronized long written() {
    return written;
  }

  @Override
  public synchronized void close() throws IOException {
    out.close();
  }
}
