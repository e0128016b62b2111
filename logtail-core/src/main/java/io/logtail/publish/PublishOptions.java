package io.logtail.publish;

import io.logtail.worker.DurationConverter;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Option;

/**
 * The publisher's command-line options, declared once: {@code logtail publish} (where
 * {@code --publish-dir} is required) and {@code logtail run} (where it turns the publisher on, in the
 * admin process) both mix them in.
 */
public final class PublishOptions {
  @Option(names = "--publish-dir", paramLabel = "DIR", defaultValue = "${env:LOGTAIL_PUBLISH_DIR}",
      description = "Publish the results as flat files (results/index.json, results/ballot/*.json, canvass/cells.geojson,"
          + " results/status.json, each with a .gz) under DIR, for nginx to serve (docs/results.md). With `run`, the"
          + " admin process publishes; without this option it does not. Env: LOGTAIL_PUBLISH_DIR.")
  public Path dir;

  @Option(names = "--publish-interval", defaultValue = "${env:LOGTAIL_PUBLISH_INTERVAL:-5s}", converter = DurationConverter.class,
      description = "How often the results are read and the files that changed rewritten. Default: ${DEFAULT-VALUE}. Env: LOGTAIL_PUBLISH_INTERVAL.")
  public Duration interval;

  @Option(names = "--publish-cells-interval", defaultValue = "${env:LOGTAIL_PUBLISH_CELLS_INTERVAL:-30s}",
      converter = DurationConverter.class,
      description = "How often canvass/cells.geojson is recomputed (a scan of all canvass records; docs/benchmarks.md);"
          + " never more often than --publish-interval. Default: ${DEFAULT-VALUE}. Env: LOGTAIL_PUBLISH_CELLS_INTERVAL.")
  public Duration cellsInterval;

  @Option(names = "--publish-fsync", defaultValue = "${env:LOGTAIL_PUBLISH_FSYNC:-true}", arity = "1", paramLabel = "true|false",
      description = "fsync every published file before its rename, and its directory after. false: readers still never see a"
          + " partial file, but after a power loss a file may be empty or old until the first cycle after the restart rewrites it;"
          + " 5,000 changed ballots cost seconds of fsyncs per cycle on a slow disk (docs/benchmarks.md). Default: ${DEFAULT-VALUE}."
          + " Env: LOGTAIL_PUBLISH_FSYNC.")
  public boolean fsync;

  @Option(names = "--publish-seq-file", paramLabel = "FILE", defaultValue = "${env:LOGTAIL_PUBLISH_SEQ_FILE}",
      description = "Keep the largest published seq in FILE too (written and fsynced before each cycle's files), outside"
          + " --publish-dir: with the publish directory on a tmpfs, which a reboot empties, seq then still never goes back"
          + " (docs/results.md). Default under `run`: <data-dir>/publish.seq; under `publish`: none (seq is read back from"
          + " the published files). Env: LOGTAIL_PUBLISH_SEQ_FILE.")
  public Path seqFile;

  /** The validated settings, or null when no {@code --publish-dir} was given. */
  public PublisherConfig toConfig() {
    return toConfig(null);
  }

  /** As {@link #toConfig()}, with {@code defaultSeqFile} when no {@code --publish-seq-file} was given. */
  public PublisherConfig toConfig(Path defaultSeqFile) {
    if (dir == null || dir.toString().isBlank()) {
      return null;
    }
    Path seq = seqFile != null && !seqFile.toString().isBlank() ? seqFile : defaultSeqFile;
    return PublisherConfig.of(dir, interval, cellsInterval, fsync).withSeqFile(seq);
  }
}
