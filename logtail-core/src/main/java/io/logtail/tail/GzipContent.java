package io.logtail.tail;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * The decompressed content of a rotated {@code .gz} file.
 *
 * <p>A {@code .gz} is read only once its gzip stream is complete: {@link #check} decompresses it
 * once to its end (trailer CRC and length verified by {@link GZIPInputStream}), which also yields
 * the fingerprint of its first line and its decompressed length. A half-written file fails that
 * check and is checked again when its size or modification time changes (no retry storm).
 * Reading is sequential with a cursor kept open between passes; a read behind the cursor reopens
 * the file. Offsets are decompressed offsets.
 */
final class GzipContent implements ContentInput, AutoCloseable {
  /** What {@link #check} found. */
  record Check(boolean complete, long length, int fpLength, long fingerprint, String problem) {}

  private final FileOpener opener;
  private FileChannel channel;
  private InputStream in;
  private long pos;

  /** Opens the file anew, checking it is still the same inode. */
  interface FileOpener {
    FileChannel open() throws IOException;
  }

  GzipContent(FileOpener opener) {
    this.opener = opener;
  }

  /**
   * Decompresses the whole file once, using {@code buf} as scratch and {@code first} (at least
   * {@link Source#FINGERPRINT_MAX_BYTES} long) for the first bytes to fingerprint.
   */
  static Check check(FileOpener opener, byte[] buf, byte[] first) throws IOException {
    try (FileChannel ch = opener.open();
        InputStream gz = new GZIPInputStream(Channels.newInputStream(ch), 65536)) {
      long length = 0;
      int firstLen = 0;
      int n;
      while ((n = gz.read(buf, 0, buf.length)) >= 0) {
        if (firstLen < Source.FINGERPRINT_MAX_BYTES) {
          int k = Math.min(n, Source.FINGERPRINT_MAX_BYTES - firstLen);
          System.arraycopy(buf, 0, first, firstLen, k);
          firstLen += k;
        }
        length += n;
      }
      if (length == 0) return new Check(false, 0, -1, 0, "empty gzip content");
      int fpLen = Fingerprint.identifyingLength(first, firstLen);
      if (fpLen < 0) fpLen = firstLen; // complete, shorter than 4 KiB, no \n: all of it
      return new Check(true, length, fpLen, Fingerprint.xxHash64(first, 0, fpLen), null);
    } catch (EOFException | ZipException e) {
      return new Check(false, -1, -1, 0, "incomplete or corrupt gzip: " + e.getMessage());
    }
  }

  /**
   * Fingerprint of the first line of the decompressed content, decompressing only its first bytes;
   * null when not identifiable from what is there.
   */
  static Long firstLineFingerprint(FileOpener opener, byte[] first) throws IOException {
    try (FileChannel ch = opener.open();
        InputStream gz = new GZIPInputStream(Channels.newInputStream(ch), 8192)) {
      int n = 0;
      int m;
      while (n < Source.FINGERPRINT_MAX_BYTES
          && (m = gz.read(first, n, Source.FINGERPRINT_MAX_BYTES - n)) >= 0) {
        n += m;
      }
      int len = Fingerprint.identifyingLength(first, n);
      if (len < 0) return null;
      return Fingerprint.xxHash64(first, 0, len);
    } catch (EOFException | ZipException e) {
      return null;
    }
  }

  /**
   * The fingerprint of the first line of a gzip file that may still be being written (gzip(1)
   * writes the file front to back): null while its first line is not decompressable yet.
   */
  static Long firstLineFingerprintOfPrefix(FileOpener opener, byte[] first) throws IOException {
    int n = 0;
    try (FileChannel ch = opener.open();
        InputStream gz = new GZIPInputStream(Channels.newInputStream(ch), 8192)) {
      int m;
      while (n < Source.FINGERPRINT_MAX_BYTES
          && (m = gz.read(first, n, Source.FINGERPRINT_MAX_BYTES - n)) >= 0) {
        n += m;
      }
    } catch (EOFException | ZipException e) {
      // the end of what is written so far (or damage): identify from the bytes decompressed
    }
    int len = Fingerprint.identifyingLength(first, n);
    return len < 0 ? null : Fingerprint.xxHash64(first, 0, len);
  }

  boolean isOpen() {
    return channel != null;
  }

  @Override
  public int read(long at, byte[] b, int off, int len) throws IOException {
    if (len == 0) return 0;
    if (in == null || at < pos) {
      close();
      channel = opener.open();
      in = new GZIPInputStream(Channels.newInputStream(channel), 65536);
      pos = 0;
    }
    while (pos < at) { // skip forward, decompressing into the caller's buffer as scratch
      int n = in.read(b, off, (int) Math.min(len, at - pos));
      if (n < 0) return 0;
      pos += n;
    }
    int total = 0;
    while (total < len) {
      int n = in.read(b, off + total, len - total);
      if (n < 0) break;
      total += n;
    }
    pos += total;
    return total;
  }

  @Override
  public void close() {
    try {
      if (in != null) in.close();
      else if (channel != null) channel.close();
    } catch (IOException ignored) {
      // closing a read-only file: nothing was written, nothing can be lost
    }
    in = null;
    channel = null;
  }
}
