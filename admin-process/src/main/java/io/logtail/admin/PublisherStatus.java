package io.logtail.admin;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.logtail.publish.Publisher;
import io.logtail.publish.PublisherState;
import java.time.Instant;

/**
 * The {@code publisher} member of {@code /status} (null when the admin does not publish): whether the
 * last cycle succeeded, the seq, when it last succeeded and how stale the files are, the last error,
 * the cycle's duration. Times are epoch milliseconds, as elsewhere on {@code /status}.
 */
public final class PublisherStatus {
  private PublisherStatus() {}

  public static JsonNode json(Publisher p, long nowMillis) {
    if (p == null) {
      return NullNode.getInstance();
    }
    PublisherState s = p.state();
    ObjectNode n = JsonNodeFactory.instance.objectNode();
    n.put("dir", p.config().dir().toString());
    n.put("ok", s.ok());
    n.put("seq", s.seq());
    n.put("interval_ms", p.config().interval().toMillis());
    putTime(n, "checked_at", s.checkedAt());
    putTime(n, "last_success_at", s.lastSuccessAt());
    putTime(n, "stale_since", s.staleSince());
    n.put("stale_s", Math.round(s.staleSeconds(Instant.ofEpochMilli(nowMillis)) * 10) / 10.0);
    n.put("last_error", s.lastError());
    n.put("last_cycle_ms", Math.round(s.lastCycleMs() * 10) / 10.0);
    n.put("last_query_ms", Math.round(s.lastQueryMs() * 10) / 10.0);
    n.put("last_write_ms", Math.round(s.lastWriteMs() * 10) / 10.0);
    n.put("cycles", s.cycles());
    n.put("failures", s.failures());
    n.put("files_written", s.filesWritten());
    n.put("ballots", s.ballots());
    n.put("cells", s.cells());
    return n;
  }

  private static void putTime(ObjectNode n, String name, Instant t) {
    if (t == null) {
      n.putNull(name);
    } else {
      n.put(name, t.toEpochMilli());
    }
  }
}
