package io.logtail.event;

/**
 * A decoded vote beacon: {@code /b/vote.gif?ballot=B&choice=C&voter=H[&eid=E]}. Mutable and reused
 * by the decoder; consumers copy what they keep.
 */
public final class VoteEvent {
  /** Identifier, 1..64 of [A-Za-z0-9._-]. */
  public String ballot;
  /** Identifier, 1..64 of [A-Za-z0-9._-]. */
  public String choice;
  /** SHA-256 of the voter, 32 raw bytes (decoded from 64 hex digits, any case). */
  public final byte[] voter = new byte[32];
  /** Optional client event id (1..64 of [A-Za-z0-9._:-]), or null. */
  public String eid;
  /** Request time from the log line, microseconds since the epoch (UTC). */
  public long timeMicros;
  /**
   * The raw log line this vote came from ({@code raw[rawOff, rawOff+rawLen)}), valid only during the
   * {@link EventSink#vote} call; kept by the batch so that a vote the database's reference data rejects
   * (unknown voter, ballot or choice) is stored in {@code rejects} with its line, like any reject.
   */
  public byte[] raw;
  public int rawOff;
  public int rawLen;

  @Override
  public String toString() {
    return "vote ballot=" + ballot + " choice=" + choice + " eid=" + eid + " t=" + timeMicros;
  }
}
