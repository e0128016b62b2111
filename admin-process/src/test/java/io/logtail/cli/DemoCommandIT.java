package io.logtail.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.logtail.db.EmbeddedPostgres;
import io.logtail.db.TestDatabase;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code logtail demo}, short, both ways: through the real nginx (as NginxE2EIT, nginx must be
 * installed) and with lines written by logtail itself; each ends with the exact check passing, a
 * worker restart, and the look-further commands.
 */
class DemoCommandIT {
  @TempDir Path dir;

  @Test
  void demoThroughNginxEndsExact() {
    runDemo(dir.resolve("with-nginx"), false);
  }

  @Test
  void demoWithoutNginxSaysSoAndEndsExact() {
    String out = runDemo(dir.resolve("no-nginx"), true);
    assertTrue(out.contains("logtail writes nginx-format (combined) lines itself"), out);
  }

  private static String runDemo(Path d, boolean noNginx) {
    int dbPort = TestDatabase.freePort();
    try {
      CliTestSupport.Run r = CliTestSupport.run(noNginx ? new String[] {"demo", "--no-nginx", "--duration", "6s",
          "--rate", "1500", "--clients", "4", "--dir", d.toString(), "--db-port", Integer.toString(dbPort),
          "--status-addr", "127.0.0.1:0", "--progress-interval", "1s"}
          : new String[] {"demo", "--duration", "6s", "--rate", "1500", "--clients", "4", "--dir", d.toString(),
              "--db-port", Integer.toString(dbPort), "--nginx-port", Integer.toString(TestDatabase.freePort()),
              "--status-addr", "127.0.0.1:0", "--progress-interval", "1s"});
      assertEquals(0, r.exit(), r.out() + r.err());
      String out = r.out();
      assertTrue(out.contains("check             EXACT"), out);
      assertTrue(out.contains("killing the worker"), out);
      Matcher m = Pattern.compile("worker restarts   (\\d+)").matcher(out);
      assertTrue(m.find() && Integer.parseInt(m.group(1)) == 1, out);
      Matcher lines = Pattern.compile("lines committed   ([0-9,]+) of ([0-9,]+)").matcher(out);
      assertTrue(lines.find() && lines.group(1).equals(lines.group(2)) && !lines.group(1).equals("0"), out);
      assertTrue(out.contains("psql 'postgresql://logtail@127.0.0.1:" + dbPort + "/demo'"), out);
      assertTrue(noNginx || out.contains("rotated the log with systemd/logrotate-logtail"), out);
      return out;
    } finally {
      // the demo leaves its PostgreSQL up for psql; a test must not
      EmbeddedPostgres.builder().dataDir(d.resolve("pg")).port(dbPort).start().stop();
    }
  }
}
