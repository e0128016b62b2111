package io.logtail.tail;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * One open file (one device + inode) the tailer follows, whatever its path is now. A plain file is
 * held open from discovery until it is closed as inactive, so it is read to its end through the
 * same channel after a rename or a delete, and its inode cannot be recycled meanwhile. A {@code .gz}
 * file is only opened while it is checked or read.
 */
final class TrackedFile implements ContentInput {
  final FileKey key;
  final boolean gz;
  Path path;
  FileChannel channel; // plain files only
  GzipContent gzip; // gz files only, once complete

  /** Seen at a matched path in the latest pass. */
  boolean matched;
  /** Last time (ticker) it grew or was read from. */
  long idleSinceNanos;
  /** Content size observed in the latest pass (decompressed size for gz). */
  long size;
  /** {@link #size} at which its stream was last read to the end of the file, or -1. */
  long drainedSize = -1;

  // Identity: which stream this file holds, once its first line is on disk.
  TrackedStream stream;
  int fpLength;

  // gz check state: the on-disk size and mtime last checked, to retry only when they change
  long gzCheckedDiskSize = -1;
  long gzCheckedMtime;
  long gzCheckedCtime;
  long gzFingerprint; // of the complete content last checked
  int gzFpLength;
  long diskSize;
  long mtime;
  long ctime;

  /** Ticker time of discovery. */
  final long firstSeenNanos;
  /** Of an incomplete gz: the fingerprint of its first line once decompressable, else null. */
  Long partialFingerprint;

  // status
  long truncations;
  long bytesAtRisk;
  String problem;

  TrackedFile(FileKey key, Path path, boolean gz, long now) {
    this.key = key;
    this.path = path;
    this.gz = gz;
    this.idleSinceNanos = now;
    this.firstSeenNanos = now;
  }

  boolean identified() {
    return stream != null;
  }

  /**
   * Whether an open descriptor pins the inode. While it does, the device + inode cannot be handed
   * to another file; when it does not (a {@code .gz} between reads, a file that could not be
   * opened), the same device + inode may later be a different file.
   */
  boolean holdsInode() {
    return gz ? gzip != null && gzip.isOpen() : channel != null;
  }

  boolean readable() {
    return gz ? gzip != null : channel != null;
  }

  @Override
  public int read(long pos, byte[] b, int off, int len) throws IOException {
    if (gz) return gzip.read(pos, b, off, len);
    ByteBuffer bb = ByteBuffer.wrap(b, off, len);
    long p = pos;
    while (bb.hasRemaining()) {
      int n = channel.read(bb, p);
      if (n <= 0) break;
      p += n;
    }
    return bb.position() - off;
  }

  private byte[] firstLine;

  @Override
  public boolean stillSameContent() throws IOException {
    if (gz || stream == null || fpLength <= 0) return true;   // a .gz is never truncated in place
    if (firstLine == null || firstLine.length < fpLength) firstLine = new byte[fpLength];
    int n = read(0, firstLine, 0, fpLength);
    return n == fpLength && Fingerprint.xxHash64(firstLine, 0, n) == stream.source.fingerprint();
  }

  void close() {
    if (gzip != null) gzip.close();
    if (channel != null) {
      try {
        channel.close();
      } catch (IOException ignored) {
        // a read-only channel: closing it cannot lose data
      }
      channel = null;
    }
  }

  @Override
  public String toString() {
    return path + " (" + key + ")";
  }
}
