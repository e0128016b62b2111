package io.logtail.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

class StatusCommandTest {
  @Test
  void rendersTheSummary() throws Exception {
    String doc = """
        {"worker":{"state":"restarting","pid":null,"restarts":2,"uptime_s":null,
          "last_exit":{"code":137,"signal":9,"at":1000,"pid":7},"last_error":"worker killed by signal 9 (exit status 137)"},
         "sources":[{"path":"/var/log/nginx/access.log","state":"caught_up","size":3145728,"lag_bytes":1048576}],
         "lag_bytes":1048576,
         "events":{"lines":10,"committed":8,"rejected":1,"skipped":1,"retransmits":0,"duplicates":0},
         "flush":{"batches":3,"last_commit_at":61000,"last_batch_ms":2.5,"rows_per_s":40.0},
         "database":{"reachable":false,"url":"jdbc:postgresql://db/logtail"},
         "fsync":{"last_ms":0.4,"files":3}}""";
    String out = StatusCommand.render(new ObjectMapper().readTree(doc), 121_000);
    assertTrue(out.contains("worker     RESTARTING  pid -"), out);
    assertTrue(out.contains("restarts 2"), out);
    assertTrue(out.contains("last exit  status 137 (signal 9), 2m ago"), out);
    assertTrue(out.contains("last error worker killed by signal 9"), out);
    assertTrue(out.contains("NOT REACHABLE"), out);
    assertTrue(out.contains("last commit 60s ago"), out);
    assertTrue(out.contains("lag 1.0 MiB"), out);
    assertTrue(out.contains("/var/log/nginx/access.log"), out);
  }
}
