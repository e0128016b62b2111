package io.logtail.publish;

import java.time.Instant;
import java.util.List;
import java.util.SortedMap;

/**
 * What one publishing cycle read from the database, in one REPEATABLE READ snapshot ({@link
 * ResultsQuery}): the last committed batch of every node, the commit time of the newest of them, every
 * ballot with its counts, and, in the cycles where they are due, the canvass cells. Plain data; the
 * rendering is {@link ResultsJson}'s.
 *
 * @param batches node name to its last committed batch id, sorted by name
 * @param updatedAt commit time of the newest batch reflected; null before the first batch
 * @param ballots sorted by ballot name
 * @param cells sorted by (cell_lat, cell_lon); null when the cells were not read in this cycle
 */
public record ResultsSnapshot(SortedMap<String, Long> batches, Instant updatedAt, List<Ballot> ballots,
    List<Cell> cells) {

  /** One choice of a ballot and its counted votes. */
  public record Choice(String choice, long votes) {}

  /**
   * One ballot.
   *
   * @param votes counted votes (the sum of {@code choices})
   * @param choices sorted by votes descending, then choice; choices listed in {@code ballots} appear
   *     with 0 votes
   * @param duplicateVoters voters with later votes on this ballot ({@code vote_duplicates} rows)
   * @param duplicateAttempts their later votes
   * @param rejectsByReason rejects counted for this ballot, by reason code, sorted by code
   * @param roll voters on the roll that applies to this ballot, or null when none applies
   */
  public record Ballot(String ballot, long votes, List<Choice> choices, long duplicateVoters,
      long duplicateAttempts, SortedMap<String, Long> rejectsByReason, Long roll) {

    public long rejects() {
      long n = 0;
      for (long v : rejectsByReason.values()) {
        n += v;
      }
      return n;
    }
  }

  /**
   * One 0.001° locality cell ({@code cell_lat = floor(lat × 1000)}, as {@code canvass_records}).
   *
   * @param intentions issue to counts {yes, no, undecided}, sorted by issue
   */
  public record Cell(int cellLat, int cellLon, long records, long visits, long followups,
      SortedMap<String, long[]> intentions) {}

  /** Stances in the order of {@link Cell#intentions()}' arrays. */
  public static final List<String> STANCES = List.of("yes", "no", "undecided");

  public ResultsSnapshot {
    batches = java.util.Collections.unmodifiableSortedMap(batches);
    ballots = List.copyOf(ballots);
    cells = cells == null ? null : List.copyOf(cells);
  }

  /** Convenience for tests: ballot by name, or null. */
  public Ballot ballot(String name) {
    for (Ballot b : ballots) {
      if (b.ballot().equals(name)) {
        return b;
      }
    }
    return null;
  }
}
