package io.logtail.admin;

import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code /metrics}: the figures of {@code /status} as Prometheus text, through Micrometer. Each scrape
 * takes one status snapshot and every meter reads from it. Names (Prometheus form):
 * {@code logtail_worker_up}, {@code logtail_worker_restarts_total}, {@code logtail_worker_uptime_seconds},
 * {@code logtail_lines_total}, {@code logtail_events_committed_total}, {@code logtail_events_rejected_total},
 * {@code logtail_events_skipped_total}, {@code logtail_events_retransmits_total},
 * {@code logtail_events_duplicates_total}, {@code logtail_flush_batches_total},
 * {@code logtail_flush_last_batch_seconds}, {@code logtail_flush_rows_per_second},
 * {@code logtail_flush_last_commit_timestamp_seconds}, {@code logtail_binlog_last_batch},
 * {@code logtail_database_reachable}, {@code logtail_fsync_last_seconds},
 * {@code logtail_lag_bytes{path}}, {@code logtail_source_size_bytes{path}},
 * {@code logtail_source_committed_offset_bytes{path}}, {@code logtail_lag_total_bytes}; with
 * {@code --publish-dir}: {@code logtail_publisher_ok}, {@code logtail_publisher_seq},
 * {@code logtail_publisher_stale_seconds}, {@code logtail_publisher_last_cycle_seconds},
 * {@code logtail_publisher_last_success_timestamp_seconds}, {@code logtail_publisher_failures_total}.
 */
final class Metrics {
  private final StatusServer.Source src;
  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final MultiGauge lag;
  private final MultiGauge size;
  private final MultiGauge committed;
  private volatile JsonNode snap;

  Metrics(StatusServer.Source src) {
    this.src = src;
    this.snap = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
    Gauge.builder("logtail.worker.up", this, m -> "running".equals(m.text("worker", "state")) ? 1 : 0)
        .description("1 when the worker runs, else 0").register(registry);
    FunctionCounter.builder("logtail.worker.restarts", this, m -> m.num("worker", "restarts"))
        .description("Restarts of the worker since the admin started").register(registry);
    Gauge.builder("logtail.worker.uptime", this, m -> m.num("worker", "uptime_s"))
        .baseUnit("seconds").description("Time since the current worker started").register(registry);
    FunctionCounter.builder("logtail.lines", this, m -> m.num("events", "lines"))
        .description("Log lines committed (events, rejects, skips)").register(registry);
    for (String c : new String[] {"committed", "rejected", "skipped", "retransmits", "duplicates"}) {
      FunctionCounter.builder("logtail.events." + c, this, m -> m.num("events", c))
          .description("Events " + c + " since the admin started").register(registry);
    }
    FunctionCounter.builder("logtail.flush.batches", this, m -> m.num("flush", "batches"))
        .description("Batches committed by the current worker").register(registry);
    Gauge.builder("logtail.flush.last.batch", this, m -> m.num("flush", "last_batch_ms") / 1000.0)
        .baseUnit("seconds").description("Duration of the last batch commit").register(registry);
    Gauge.builder("logtail.flush.rows.per.second", this, m -> m.num("flush", "rows_per_s"))
        .description("Lines committed per second").register(registry);
    Gauge.builder("logtail.flush.last.commit.timestamp", this, m -> m.num("flush", "last_commit_at") / 1000.0)
        .baseUnit("seconds").description("Unix time of the last commit").register(registry);
    Gauge.builder("logtail.binlog.last.batch", this, m -> m.num("binlog", "last_batch"))
        .description("Id of the last batch in the binlog").register(registry);
    Gauge.builder("logtail.database.reachable", this, m -> m.snap.path("database").path("reachable").asBoolean() ? 1 : 0)
        .description("1 when the database answers").register(registry);
    Gauge.builder("logtail.fsync.last", this, m -> m.num("fsync", "last_ms") / 1000.0)
        .baseUnit("seconds").description("Time the last fsync of logs and binlog took").register(registry);
    Gauge.builder("logtail.lag.total", this, m -> m.snap.path("lag_bytes").asDouble())
        .baseUnit("bytes").description("Bytes in the logs not yet committed, all sources").register(registry);
    publisherMeters();
    lag = MultiGauge.builder("logtail.lag").baseUnit("bytes")
        .description("Bytes of the file not yet committed").register(registry);
    size = MultiGauge.builder("logtail.source.size").baseUnit("bytes")
        .description("Size of the file").register(registry);
    committed = MultiGauge.builder("logtail.source.committed.offset").baseUnit("bytes")
        .description("Offset up to which the file is committed").register(registry);
  }

  /** The publisher's figures (NaN when the admin does not publish). */
  private void publisherMeters() {
    Gauge.builder("logtail.publisher.ok", this, m -> m.snap.path("publisher").isObject()
            ? (m.snap.path("publisher").path("ok").asBoolean() ? 1 : 0) : Double.NaN)
        .description("1 when the last publishing cycle succeeded").register(registry);
    Gauge.builder("logtail.publisher.seq", this, m -> m.num("publisher", "seq"))
        .description("Sequence number of the newest published results").register(registry);
    Gauge.builder("logtail.publisher.stale", this, m -> m.num("publisher", "stale_s"))
        .baseUnit("seconds").description("Time since the published files last reflected the database").register(registry);
    Gauge.builder("logtail.publisher.last.cycle", this, m -> m.num("publisher", "last_cycle_ms") / 1000.0)
        .baseUnit("seconds").description("Duration of the last publishing cycle").register(registry);
    Gauge.builder("logtail.publisher.last.success.timestamp", this, m -> m.num("publisher", "last_success_at") / 1000.0)
        .baseUnit("seconds").description("Unix time of the last successful publishing cycle").register(registry);
    FunctionCounter.builder("logtail.publisher.failures", this, m -> m.num("publisher", "failures"))
        .description("Failed publishing cycles since the admin started").register(registry);
  }

  private double num(String obj, String field) {
    JsonNode n = snap.path(obj).path(field);
    return n.isNumber() ? n.asDouble() : Double.NaN;
  }

  private String text(String obj, String field) {
    return snap.path(obj).path(field).asText();
  }

  synchronized String scrape() {
    snap = src.status();
    List<MultiGauge.Row<?>> l = new ArrayList<>();
    List<MultiGauge.Row<?>> s = new ArrayList<>();
    List<MultiGauge.Row<?>> c = new ArrayList<>();
    for (JsonNode n : snap.path("sources")) {
      Tags t = Tags.of("path", n.path("path").asText());
      l.add(MultiGauge.Row.of(t, n.path("lag_bytes").asDouble()));
      s.add(MultiGauge.Row.of(t, n.path("size").asDouble()));
      c.add(MultiGauge.Row.of(t, n.path("committed_offset").asDouble()));
    }
    lag.register(l, true);
    size.register(s, true);
    committed.register(c, true);
    return registry.scrape();
  }
}
