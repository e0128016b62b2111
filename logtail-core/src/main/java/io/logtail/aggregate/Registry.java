package io.logtail.aggregate;

import io.logtail.tail.Source;

/**
 * Compact database ids for what the batch builder writes into rows: a source's id, a ballot's id.
 * Implementations cache and create ids on first sight, blocking (and retrying) while the database
 * is unreachable, which is backpressure like any other.
 */
public interface Registry {
  int sourceId(Source source) throws InterruptedException;

  int ballotId(String ballot) throws InterruptedException;

  /** Whether reference data (ballots or a voter roll) is loaded, so votes must keep their raw line. */
  boolean referenceDataLoaded();
}
