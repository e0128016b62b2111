package io.logtail.binlog;

/**
 * A record as read from the binlog, with where it is.
 *
 * @param index  the Chronicle Queue index of the document (cycle and sequence number)
 * @param record the decoded record
 */
public record BinlogEntry(long index, BinlogRecord record) {
}
