package io.logtail.tail;

import java.nio.file.Path;

/**
 * One row of {@link Tailer#snapshot()}: one file the tailer holds open or watches.
 *
 * @param path where the file is now
 * @param sourceId the {@link Source#id()} of the stream it holds, or {@code null} while it is not
 *     identifiable yet (no first line on disk, or an incomplete {@code .gz})
 * @param size the content size last observed (decompressed size for a {@code .gz})
 * @param readOffset offset up to which its stream was delivered (0 when not identified)
 * @param state see {@link State}
 * @param truncations how often this file was seen truncated (copytruncate) in this process
 * @param bytesAtRisk bytes that were in the file but unread when it was truncated, summed
 */
public record SourceStatus(Path path, String sourceId, long size, long readOffset, State state,
    long truncations, long bytesAtRisk) {

  public enum State {
    /** No complete first line yet: waiting to know which stream it is. */
    WAITING_FOR_FIRST_LINE,
    /** A {@code .gz} whose gzip stream is not complete (still being written, or corrupt). */
    GZIP_INCOMPLETE,
    /** The file cannot be read (see the log); retried every pass. */
    UNREADABLE,
    /** Bytes are waiting to be read. */
    READING,
    /** Everything up to the end of the file was read (a partial last line may wait for its \n). */
    CAUGHT_UP,
    /** Another file holds the same stream and is read instead (a copy, or a compressed copy). */
    COPY,
    /** No longer matched by any glob (renamed away or deleted): read to its end, then closed. */
    DETACHED
  }
}
