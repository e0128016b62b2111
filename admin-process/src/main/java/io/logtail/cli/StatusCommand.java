package io.logtail.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code logtail status}: what the running admin process reports, for a terminal or as JSON. */
@Command(name = "status", mixinStandardHelpOptions = true,
    description = {"Shows the status of the running logtail (its status port): worker, lag per log, events,",
        "last commit, database. Exit status: 0 when healthy, 1 when not, 2 when the port does not answer.",
        "With --cluster: every node writing to the database (read from the database's view cluster_status,",
        "not from a status port): batches, lines, last commit, lag. Exit status then: 0 when every node",
        "reported recently, 1 when one is STALE, 2 when the database cannot be read."})
public final class StatusCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--status-addr", paramLabel = "HOST:PORT", defaultValue = "${env:LOGTAIL_STATUS_ADDR:-127.0.0.1:9180}",
      description = "The status port. Default: ${DEFAULT-VALUE}. Env: LOGTAIL_STATUS_ADDR.")
  String addr;

  @Option(names = "--token", defaultValue = "${env:LOGTAIL_STATUS_TOKEN}", description = "Bearer token. Env: LOGTAIL_STATUS_TOKEN.")
  String token;

  @Option(names = "--json", description = "Print the raw /status JSON (with --cluster: the nodes as JSON).")
  boolean json;

  @Option(names = "--cluster", description = "Every node of the database, read from the database (--db-url), not from the status port.")
  boolean cluster;

  @Option(names = "--stale-after", defaultValue = "30", paramLabel = "SECONDS",
      description = "With --cluster: a node whose last size report is older is STALE. Default: ${DEFAULT-VALUE}.")
  double staleAfter;

  @Mixin DbOptions db = new DbOptions();

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (cluster) {
      return cluster(out, err);
    }
    String host = addr.startsWith("0.0.0.0:") ? "127.0.0.1" + addr.substring(7) : addr;
    HttpRequest.Builder rb = HttpRequest.newBuilder(URI.create("http://" + host + "/status"))
        .timeout(Duration.ofSeconds(5)).GET();
    if (token != null && !token.isBlank()) {
      rb.header("Authorization", "Bearer " + token);
    }
    HttpResponse<String> r;
    try {
      r = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build()
          .send(rb.build(), HttpResponse.BodyHandlers.ofString());
    } catch (Exception e) {
      err.println("logtail status: no answer from http://" + host + "/status (" + e + "); is logtail running?");
      return 2;
    }
    if (r.statusCode() != 200) {
      err.println("logtail status: HTTP " + r.statusCode() + ": " + r.body().strip());
      return 2;
    }
    if (json) {
      out.print(r.body());
      out.flush();
      return 0;
    }
    try {
      JsonNode s = new ObjectMapper().readTree(r.body());
      out.print(render(s, System.currentTimeMillis()));
      out.flush();
      return "running".equals(s.path("worker").path("state").asText()) ? 0 : 1;
    } catch (Exception e) {
      err.println("logtail status: unreadable answer: " + e.getMessage());
      return 2;
    }
  }

  private int cluster(PrintWriter out, PrintWriter err) {
    if (!(staleAfter > 0)) {
      err.println("logtail status: --stale-after must be a positive number of seconds, was " + staleAfter);
      return 2;
    }
    java.util.List<ClusterStatus.Node> nodes;
    try (io.logtail.db.Database d = io.logtail.worker.DatabaseSetup.open(db.dbUrl, db.dbUser, db.dbPassword, db.dataDir,
        db.dbPort, false); java.sql.Connection c = d.connection()) {
      nodes = ClusterStatus.read(c);
    } catch (java.sql.SQLException | RuntimeException e) {
      err.println("logtail status --cluster: cannot read cluster_status from " + db.describe() + ": " + e.getMessage()
          + "; check --db-url/--db-user/LOGTAIL_DB_PASSWORD, and that a logtail of schema version 3 or later has run"
          + " against it once (it migrates)");
      return 2;
    }
    if (json) {
      try {
        out.println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(nodes));
      } catch (Exception e) {
        err.println("logtail status: " + e.getMessage());
        return 2;
      }
    } else {
      out.print(ClusterStatus.render(nodes, db.describe(), staleAfter));
    }
    out.flush();
    return nodes.stream().anyMatch(n -> n.stale(staleAfter)) ? 1 : 0;
  }

  static String render(JsonNode s, long now) {
    StringBuilder b = new StringBuilder();
    JsonNode w = s.path("worker");
    b.append(String.format(Locale.ROOT, "worker     %s  pid %s  up %s  restarts %d%n", w.path("state").asText().toUpperCase(Locale.ROOT),
        w.path("pid").isNull() ? "-" : w.path("pid").asText(), w.path("uptime_s").isNull() ? "-" : age(w.path("uptime_s").asLong()),
        w.path("restarts").asLong()));
    if (!w.path("last_exit").isNull() && !w.path("last_exit").isMissingNode()) {
      JsonNode e = w.path("last_exit");
      b.append(String.format(Locale.ROOT, "last exit  status %d%s, %s ago%n", e.path("code").asInt(),
          e.path("signal").isNull() ? "" : " (signal " + e.path("signal").asInt() + ")", age((now - e.path("at").asLong()) / 1000)));
    }
    if (!w.path("last_error").isNull() && !w.path("last_error").isMissingNode()) {
      b.append("last error ").append(w.path("last_error").asText()).append('\n');
    }
    JsonNode d = s.path("database");
    b.append(String.format(Locale.ROOT, "database   %s  %s%n", d.path("reachable").asBoolean() ? "reachable" : "NOT REACHABLE", d.path("url").asText()));
    JsonNode f = s.path("flush");
    b.append("last commit ").append(f.path("last_commit_at").isNumber()
        ? age((now - f.path("last_commit_at").asLong()) / 1000) + " ago" : "none yet")
        .append(String.format(Locale.ROOT, "  batches %d  last batch %s ms  %s lines/s%n", f.path("batches").asLong(),
            f.path("last_batch_ms").asText("-"), f.path("rows_per_s").asText("-")));
    JsonNode ev = s.path("events");
    b.append(String.format(Locale.ROOT, "events     lines %d  committed %d  rejected %d  skipped %d  retransmits %d  duplicates %d%n",
        ev.path("lines").asLong(), ev.path("committed").asLong(), ev.path("rejected").asLong(), ev.path("skipped").asLong(),
        ev.path("retransmits").asLong(), ev.path("duplicates").asLong()));
    JsonNode fs = s.path("fsync");
    b.append("fsync      ").append(fs.path("last_ms").isNumber() ? fs.path("last_ms").asText() + " ms, " + fs.path("files").asInt() + " files" : "not yet").append('\n');
    b.append(String.format(Locale.ROOT, "sources    %d, total lag %s%n", s.path("sources").size(), bytes(s.path("lag_bytes").asLong())));
    for (JsonNode src : s.path("sources")) {
      b.append(String.format(Locale.ROOT, "  %-10s lag %-10s size %-10s %s%n", src.path("state").asText(),
          bytes(src.path("lag_bytes").asLong()), bytes(src.path("size").asLong()), src.path("path").asText()));
    }
    return b.toString();
  }

  static String age(long secs) {
    if (secs < 120) {
      return secs + "s";
    }
    if (secs < 7200) {
      return secs / 60 + "m";
    }
    return secs / 3600 + "h" + (secs % 3600) / 60 + "m";
  }

  static String bytes(long n) {
    if (n < 1024) {
      return n + " B";
    }
    if (n < 1 << 20) {
      return String.format(Locale.ROOT, "%.1f KiB", n / 1024.0);
    }
    if (n < 1L << 30) {
      return String.format(Locale.ROOT, "%.1f MiB", n / 1048576.0);
    }
    return String.format(Locale.ROOT, "%.2f GiB", n / 1073741824.0);
  }
}
