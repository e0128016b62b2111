package io.logtail.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;

/**
 * What {@link ResultsPageFixturesIT} and {@link ResultsPageE2EIT} share: the tools (nginx, chromium:
 * missing is a failure, never a skip), the page's files copied as an operator installs them, fixture
 * files, HTTP, reading what the page shows from its DOM, and the tallies to compare it with.
 */
final class ResultsPageSupport {
  private ResultsPageSupport() {}

  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  static final Path ROOT = repoRoot();
  static final Path SHOTS = Path.of("target").toAbsolutePath();

  static Path nginxBinary() {
    return NginxServer.findBinary().orElseThrow(() -> new AssertionError(
        "nginx is not installed; ./run-tests installs it when run as root (apt-get install nginx)"));
  }

  static Path chromiumBinary() {
    return Chromium.findBinary().orElseThrow(() -> new AssertionError(
        "chromium is not installed; ./run-tests installs it when run as root (apt-get install chromium)"));
  }

  /** ballot -> [votes, choice=votes=votes...] from the vote_tallies view, choices by votes desc then name. */
  static Map<String, List<String>> talliesNow(String url) throws Exception {
    return tallies(url, "SELECT ballot, choice, votes FROM vote_tallies", null, 0);
  }

  /** The same from the counted votes whose lines are in the node's batches up to {@code batch}. */
  static Map<String, List<String>> talliesAtBatch(String url, String node, long batch) throws Exception {
    return tallies(url, "SELECT k.ballot, v.choice, count(*) FROM votes v JOIN ballot_keys k USING (ballot_id)"
        + " JOIN nodes n ON n.node_id = v.node_id WHERE n.name = ? AND EXISTS (SELECT 1 FROM batch_ranges r"
        + " WHERE r.node_id = v.node_id AND r.source_id = v.source_id AND r.batch_id <= ?"
        + " AND v.line_offset >= r.start_offset AND v.line_offset < r.end_offset) GROUP BY 1, 2", node, batch);
  }

  static Map<String, List<String>> tallies(String url, String sql, String node, long batch) throws Exception {
    Map<String, Map<String, Long>> by = new TreeMap<>();
    try (Connection c = DriverManager.getConnection(url); PreparedStatement st = c.prepareStatement(sql)) {
      if (node != null) {
        st.setString(1, node);
        st.setLong(2, batch);
      }
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          by.computeIfAbsent(rs.getString(1), k -> new TreeMap<>()).put(rs.getString(2), rs.getLong(3));
        }
      }
    }
    Map<String, List<String>> m = new TreeMap<>();
    by.forEach((b, choices) -> {
      List<String> l = new java.util.ArrayList<>();
      l.add(Long.toString(choices.values().stream().mapToLong(Long::longValue).sum()));
      choices.entrySet().stream()
          .filter(e -> e.getValue() > 0)
          .sorted((x, y) -> x.getValue().equals(y.getValue()) ? x.getKey().compareTo(y.getKey()) : Long.compare(y.getValue(), x.getValue()))
          .forEach(e -> l.add(e.getKey() + "=" + e.getValue() + "=" + e.getValue()));
      m.put(b, l);
    });
    return m;
  }

  // ---- what the page shows, read from its DOM (data-* for the raw numbers, as the page renders them) ----

  static final String DESCRIBE = "({state: document.documentElement.dataset.state, hash: location.hash,"
      + " stale: document.getElementById('stale').textContent, count: document.getElementById('list-count').textContent,"
      + " ballots: document.querySelectorAll('#ballots li.ballot').length,"
      + " updated: document.getElementById('updated').textContent})";

  /** ballot -> [votes, choice=votes...] as the list shows them. */
  static Map<String, List<String>> shownList(Chromium b) throws Exception {
    JsonNode n = b.eval("Array.from(document.querySelectorAll('#ballots li.ballot')).map(li => [li.dataset.ballot,"
        + " li.querySelector('[data-field=votes]').textContent.replace(/,/g, '')].concat("
        + " Array.from(li.querySelectorAll('li.choice')).map(c => c.dataset.choice + '=' + c.dataset.votes"
        + " + '=' + c.querySelector('.cnum').textContent.split(' ')[0].replace(/,/g, ''))))");
    Map<String, List<String>> m = new TreeMap<>();
    for (JsonNode row : n) {
      List<String> l = new java.util.ArrayList<>();
      row.forEach(x -> l.add(x.asText()));
      m.put(l.remove(0), l);
    }
    return m;
  }

  static Map<String, List<String>> expectedList(JsonNode index) {
    Map<String, List<String>> m = new TreeMap<>();
    for (JsonNode b : index.path("ballots")) {
      List<String> l = new java.util.ArrayList<>();
      l.add(Long.toString(b.path("votes").asLong()));
      for (JsonNode c : b.path("choices")) {
        l.add(c.path("choice").asText() + "=" + c.path("votes").asLong() + "=" + c.path("votes").asLong());
      }
      m.put(b.path("ballot").asText(), l);
    }
    return m;
  }

  /** The ballot page: votes, choice=votes..., duplicates, rejects, reason=count... */
  static List<String> shownBallot(Chromium b) throws Exception {
    JsonNode n = b.eval("(() => { const body = document.getElementById('ballot-body'); return ["
        + " 'ballot=' + body.dataset.ballot, 'votes=' + body.querySelector('[data-field=votes]').dataset.value]"
        + ".concat(Array.from(body.querySelectorAll('tr.choice')).map(r => 'choice ' + r.dataset.choice + '='"
        + " + r.dataset.votes + '=' + r.querySelector('td.n').textContent.replace(/,/g, '')))"
        + ".concat(['duplicates=' + body.querySelector('[data-field=duplicates]').dataset.value,"
        + " 'rejects=' + body.querySelector('[data-field=rejects]').dataset.value])"
        + ".concat(Array.from(body.querySelectorAll('tr[data-reason]')).map(r => 'reason ' + r.dataset.reason + '=' + r.dataset.count));"
        + " })()");
    List<String> l = new java.util.ArrayList<>();
    n.forEach(x -> l.add(x.asText()));
    return l;
  }

  static List<String> expectedBallot(JsonNode f) {
    List<String> l = new java.util.ArrayList<>();
    l.add("ballot=" + f.path("ballot").asText());
    l.add("votes=" + f.path("votes").asLong());
    for (JsonNode c : f.path("choices")) {
      l.add("choice " + c.path("choice").asText() + "=" + c.path("votes").asLong() + "=" + c.path("votes").asLong());
    }
    l.add("duplicates=" + f.path("duplicates").path("attempts").asLong());
    l.add("rejects=" + f.path("rejects").path("total").asLong());
    new TreeMap<String, Long>(JSON.convertValue(f.path("rejects").path("by_reason"),
        new com.fasterxml.jackson.core.type.TypeReference<Map<String, Long>>() {}))
        .forEach((k, v) -> l.add("reason " + k + "=" + v));
    return l;
  }

  static String staleText(Chromium b) throws Exception {
    return b.eval("document.getElementById('stale').textContent").asText();
  }

  // ---- files ----

  /** The page (web/index.html, app.js, style.css) copied into {@code site}, as the operator installs it. */
  static void copyPage(Path site) throws IOException {
    Files.createDirectories(site);
    for (String f : List.of("index.html", "app.js", "style.css")) {
      Files.copy(ROOT.resolve("web").resolve(f), site.resolve(f));
    }
  }

  static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> s = Files.walk(from)) {
      for (Path p : s.toList()) {
        Path t = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(t);
        } else {
          Files.copy(p, t);
        }
      }
    }
  }

  /** A .gz beside every file under {@code d}, as the publisher writes them. */
  static void gzipAll(Path d) throws IOException {
    try (Stream<Path> s = Files.walk(d)) {
      for (Path p : s.filter(Files::isRegularFile).toList()) {
        writeWithGz(p, Files.readAllBytes(p));
      }
    }
  }

  static void writeWithGz(Path p, byte[] content) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    try (OutputStream z = new GZIPOutputStream(b)) {
      z.write(content);
    }
    Path tmp = p.resolveSibling("." + p.getFileName() + ".tmp");
    Files.write(tmp, b.toByteArray());
    Files.move(tmp, p.resolveSibling(p.getFileName() + ".gz"), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    Files.write(tmp, content);
    Files.move(tmp, p, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  static void writeStatus(Path site, Instant checked, boolean ok, String error) throws IOException {
    ObjectNode s = JSON.createObjectNode();
    s.put("schema", 1);
    s.put("seq", 128);
    s.put("checked_at", checked.toString());
    s.put("interval_s", 5);
    s.put("ok", ok);
    if (ok) {
      s.putNull("stale_since");
      s.putNull("error");
    } else {
      s.put("stale_since", checked.minusSeconds(30).toString());
      s.put("error", error);
    }
    writeWithGz(site.resolve("results/status.json"), JSON.writeValueAsBytes(s));
  }

  /** An index.json of {@code n} ballots city-0..city-(n-1), 4 choices each, with a fresh status. */
  static void writeBig(Path site, int n) throws IOException {
    ObjectNode idx = JSON.createObjectNode();
    idx.put("schema", 1);
    idx.put("seq", 129);
    idx.put("updated_at", Instant.now().toString());
    idx.putObject("batches").put("node-a", 99);
    ArrayNode ballots = idx.putArray("ballots");
    List<String> names = new java.util.ArrayList<>();
    for (int i = 0; i < n; i++) {
      names.add("city-" + i);
    }
    names.sort(null);
    for (String name : names) {
      int i = Integer.parseInt(name.substring(5));
      ObjectNode b = ballots.addObject();
      b.put("ballot", name);
      long total = 0;
      ArrayNode cs = b.putArray("choices");
      long[] v = {400 + i % 97, 300 + i % 89, 200 + i % 83, 100 + i % 79};
      for (long x : v) {
        total += x;
      }
      for (int c = 0; c < v.length; c++) {
        cs.addObject().put("choice", "c" + c).put("votes", v[c]).put("share", Math.round(v[c] * 10_000.0 / total) / 10_000.0);
      }
      b.put("votes", total);
      b.put("duplicates", i % 7);
      b.put("rejects", i % 5);
      b.putObject("turnout").put("roll", 5_000).put("voted", total).put("share", Math.round(total * 10_000.0 / 5_000) / 10_000.0);
    }
    writeWithGz(site.resolve("results/index.json"), JSON.writeValueAsBytes(idx));
    writeStatus(site, Instant.now(), true, null);
  }

  // ---- HTTP ----

  record Resp(int code, Map<String, List<String>> headers, byte[] body) {
    String header(String name) {
      List<String> v = headers.get(name);
      return v == null || v.isEmpty() ? null : v.get(0);
    }
  }

  static Resp get(int port, String path, boolean gzip, String ifNoneMatch) throws IOException, InterruptedException {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(5));
    if (gzip) {
      b.header("Accept-Encoding", "gzip");
    }
    if (ifNoneMatch != null) {
      b.header("If-None-Match", ifNoneMatch);
    }
    HttpResponse<byte[]> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    Map<String, List<String>> h = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    h.putAll(r.headers().map());
    return new Resp(r.statusCode(), h, r.body());
  }

  static Path repoRoot() {
    for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
      if (Files.isRegularFile(d.resolve("web/index.html")) && Files.isRegularFile(d.resolve("run-tests"))) {
        return d;
      }
    }
    throw new IllegalStateException("cannot find the repository root (web/index.html) above " + Path.of("").toAbsolutePath());
  }
}
