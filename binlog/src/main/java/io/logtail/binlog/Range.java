package io.logtail.binlog;

import java.util.Objects;

/**
 * One committed byte range {@code [startOffset, endOffset)} of one log stream.
 *
 * @param fingerprint the stream identity: a 64-bit hash of the file's first line
 * @param device      the device number of the file when the range was read
 * @param inode       the inode number of the file when the range was read
 * @param path        the path of the file at that time (a file may be renamed by rotation later)
 * @param startOffset first byte of the range, inclusive
 * @param endOffset   end of the range, exclusive; never below {@code startOffset}
 */
public record Range(long fingerprint, long device, long inode, String path, long startOffset, long endOffset) {
    public Range {
        Objects.requireNonNull(path, "path");
        if (startOffset < 0 || endOffset < startOffset) {
            throw new IllegalArgumentException("bad range [" + startOffset + "," + endOffset + ") of " + path);
        }
    }

    public long length() {
        return endOffset - startOffset;
    }
}
