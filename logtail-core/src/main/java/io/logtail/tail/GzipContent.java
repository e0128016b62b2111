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

  /** Decompresses the whole file once, using {@code buf} as scratch. */
  static Check check(FileOpener opener, byte[] buf) throws IOException {
    try (FileChannel ch = opener.open();
        InputStream gz = new GZIPInputStream(Channels.newInputStream(ch), 65536)) {
      long length = 0;
      int fpLen = -1;
      long fp = 0;
      int n;
      while ((n = gz.read(buf, 0, buf.length)) >= 0) {
        if (length == 0 && n > 0) {
          // first bytes: fingerprint (the first read of a large buffer holds >= 4 KiB unless short)
          int first = n;
          while (first < Math.min(buf.length, Source.FINGERPRINT_MAX_BYTES)) {
            int m = gz.read(buf, first, buf.length - first);
            if (m < 0) break;
            first += m;
          }
          n = first;
          fpLen = Fingerprint.identifyingLength(buf, n);
          if (fpLen < 0) fpLen = n; // a complete file shorter than 4 KiB without \n: all of it
          fp = Fingerprint.xxHash64(buf, 0, fpLen);
        }
        length += n;
      }
      if (length == 0) return new Check(false, 0, -1, 0, "empty gzip content");
      return new Check(true, length, fpLen, fp, null);
    } catch (EOFException | ZipException e) {
      return new Check(false, -1, -1, 0, "incomplete or corrupt gzip: " + e.getMessage());
    }
  }

  @Override
  public int read(long at, byte[] b, int off, int len) throws IOException {
    if (in == null || at < pos) {
      close();
      channel = opener.open();
      in = new GZIPInputStream(Channels.newInputStream(channel), 65536);
      pos = 0;
    }
    while (pos < at) {
      long k = in.skip(at - pos);
      if (k <= 0) {
        if (in.read() < 0) return 0;
        k = 1;
      }
      pos += k;
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
