package io.logtail.tail;

import java.nio.file.Path;
import java.util.Objects;

/**
 * One log stream: the bytes of one file from its first byte, whatever it is called later.
 *
 * <p>Its persistent identity is the {@link #fingerprint()}: a 64-bit hash of the file's first line
 * (its first bytes up to and including the first {@code \n}, at most {@link #FINGERPRINT_MAX_BYTES}).
 * The same stream keeps its fingerprint when it is renamed, copied (copytruncate) or compressed
 * (a rotated {@code .gz} is fingerprinted over its decompressed bytes), so none of those make it be
 * read twice. Device and inode say where the stream lives now; the tailer follows them to see a
 * rename, and checks the fingerprint at that inode to see inode reuse or truncation.
 *
 * <p>Offsets are byte offsets in the stream's (decompressed) content.
 */
public final class Source {
  /** The fingerprint covers at most this many first bytes when the first line is longer. */
  public static final int FINGERPRINT_MAX_BYTES = 4096;

  private final long fingerprint;
  private volatile long device;
  private volatile long inode;
  private volatile Path path;
  private final boolean gzip;

  public Source(long fingerprint, long device, long inode, Path path, boolean gzip) {
    this.fingerprint = fingerprint;
    this.device = device;
    this.inode = inode;
    this.path = Objects.requireNonNull(path, "path");
    this.gzip = gzip;
  }

  public long fingerprint() { return fingerprint; }
  public long device() { return device; }
  public long inode() { return inode; }
  public Path path() { return path; }
  public boolean gzip() { return gzip; }

  /** Called by the tailer when it finds the stream at another place (rename). */
  public void relocate(long device, long inode, Path path) {
    this.device = device;
    this.inode = inode;
    this.path = Objects.requireNonNull(path, "path");
  }

  /** The stable text form used in logs, status and the binlog: 16 hex digits. */
  public String id() {
    return String.format("%016x", fingerprint);
  }

  @Override
  public String toString() {
    return id() + "@" + path + " (dev " + device + ", inode " + inode + (gzip ? ", gzip" : "") + ")";
  }
}
