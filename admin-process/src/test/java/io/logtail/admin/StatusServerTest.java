package io.logtail.admin;

import static io.logtail.admin.AdminTestSupport.PROM_LINE;
import static io.logtail.admin.AdminTestSupport.get;
import static io.logtail.admin.AdminTestSupport.request;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

class StatusServerTest {
  static final String DOC = """
      {"worker":{"state":"running","pid":42,"restarts":3,"last_exit":null,"last_error":null,"uptime_s":12},
       "sources":[{"path":"/var/log/nginx/a \\"b\\".log","file_id":"00000000000000ff","size":100,
                   "read_offset":100,"committed_offset":90,"lag_bytes":10}],
       "lag_bytes":10,
       "events":{"lines":7,"committed":5,"rejected":1,"skipped":1,"retransmits":0,"duplicates":0},
       "flush":{"batches":2,"last_commit_at":1795424400000,"last_batch_ms":1.5,"rows_per_s":100.0},
       "binlog":{"last_batch":2,"synced_at":1795424400000},
       "database":{"reachable":true,"url":"jdbc:postgresql://db/logtail"},
       "fsync":{"last_ms":0.25,"at":1795424400000}}""";

  static StatusServer.Source source(String unhealthy) throws Exception {
    ObjectNode doc = (ObjectNode) AdminTestSupport.JSON.readTree(DOC);
    return new StatusServer.Source() {
      @Override
      public JsonNode status() {
        return doc;
      }

      @Override
      public String unhealthyReason() {
        return unhealthy;
      }
    };
  }

  @Test
  void nonLoopbackWithoutTokenIsRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> StatusServer.start("0.0.0.0:0", null, source(null)));
    assertTrue(e.getMessage().contains("--status-token"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> StatusServer.start("0.0.0.0:0", " ", source(null)));
  }

  @Test
  void tokenRequiredWhenSet() throws Exception {
    try (StatusServer s = StatusServer.start("0.0.0.0:0", "s3cret", source(null))) {
      int port = s.address().getPort();
      assertEquals(401, get(port, "/status", null).code());
      assertEquals(401, get(port, "/status", "wrong").code());
      assertEquals(200, get(port, "/status", "s3cret").code());
      assertEquals(401, get(port, "/nope", null).code());
    }
  }

  @Test
  void routesMethodsAndHealth() throws Exception {
    try (StatusServer s = StatusServer.start("127.0.0.1:0", null, source(null))) {
      int port = s.address().getPort();
      AdminTestSupport.Resp st = get(port, "/status", null);
      assertEquals(200, st.code());
      assertEquals(42, AdminTestSupport.JSON.readTree(st.body()).path("worker").path("pid").asInt());
      assertEquals(404, get(port, "/", null).code());
      assertEquals(404, get(port, "/status/x", null).code());
      AdminTestSupport.Resp post = request(port, "/status", "POST", null);
      assertEquals(405, post.code());
      assertFalse(post.body().contains("Exception"));
      assertEquals(405, request(port, "/health", "DELETE", null).code());
      AdminTestSupport.Resp h = get(port, "/health", null);
      assertEquals(200, h.code());
      assertEquals("ok", h.body().strip());
    }
    try (StatusServer s = StatusServer.start("127.0.0.1:0", null, source("worker restarting: heartbeat lost"))) {
      AdminTestSupport.Resp h = get(s.address().getPort(), "/health", null);
      assertEquals(503, h.code());
      assertTrue(h.body().contains("heartbeat lost"), h.body());
    }
  }

  @Test
  void metricsAreValidPrometheusText() throws Exception {
    try (StatusServer s = StatusServer.start("127.0.0.1:0", null, source(null))) {
      String body = get(s.address().getPort(), "/metrics", null).body();
      for (String line : body.split("\n")) {
        if (!line.isEmpty()) {
          assertTrue(PROM_LINE.matcher(line).matches(), "not Prometheus text: " + line);
        }
      }
      assertTrue(body.contains("logtail_lines_total 7.0"), body);
      assertTrue(body.contains("logtail_worker_restarts_total 3.0"), body);
      assertTrue(body.contains("logtail_lag_bytes{path=\"/var/log/nginx/a \\\"b\\\".log\"} 10.0"), body);
      assertTrue(body.contains("logtail_worker_up 1.0"), body);
      assertTrue(body.contains("logtail_fsync_last_seconds 2.5E-4"), body);
    }
  }
}
