package io.logtail.demo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.logtail.admin.AdminOptions;
import io.logtail.admin.AdminProcess;
import io.logtail.admin.AdminTestSupport;
import io.logtail.db.TestDatabase;
import io.logtail.gen.LogGenerator;
import io.logtail.worker.WorkerOptions;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The results page end to end: a real nginx with the shipped {@code systemd/nginx-results.conf}
 * serving {@code web/} and a publish directory, and a real headless Chromium ({@link Chromium}, the
 * DevTools protocol) reading the page as a visitor would.
 *
 * <p>{@link #pageAndSnippetOnFixtureFiles}: the hand-written files of {@code web/test-fixtures/}: nginx's
 * types, Cache-Control, gzip_static (the .gz bytes as written), ETag/304 and 404 for everything else;
 * the page's numbers equal the files', the stale notice for each cause (old checked_at, ok:false, a
 * failed fetch) with the last good data still shown, the ballot page, keyboard navigation with a
 * visible focus, no sideways scroll at 360 px, 5,000 ballots with the filter.
 *
 * <p>{@link #liveResultsFromTheRealPublisherWhileLogtailIngests}: the admin process with its publisher
 * ({@code --publish-dir}, every second) while 4 HTTP clients fire beacons at the same nginx's beacon
 * server: mid-run the numbers the page shows equal the votes committed up to the batch its index names;
 * after the last batch they equal {@code vote_tallies}, the page having followed by itself; a ballot's
 * page equals {@code vote_tallies}, {@code vote_duplicates} and its file; the publisher stopped, the
 * stale notice appears by itself over the last good numbers. Screenshots in {@code admin-process/target/}.
 *
 * <p>Needs nginx and chromium ({@code ./run-tests} installs both as root); fails, not skips, without.
 */
class ResultsPageE2EIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private static final Path ROOT = repoRoot();
  private static final Path SHOTS = Path.of("target").toAbsolutePath();

  @TempDir Path dir;

  static Path nginxBinary() {
    return NginxServer.findBinary().orElseThrow(() -> new AssertionError(
        "nginx is not installed; ./run-tests installs it when run as root (apt-get install nginx)"));
  }

  static Path chromiumBinary() {
    return Chromium.findBinary().orElseThrow(() -> new AssertionError(
        "chromium is not installed; ./run-tests installs it when run as root (apt-get install chromium)"));
  }

  @Test
  void pageAndSnippetOnFixtureFiles() throws Exception {
    Path site = dir.resolve("site");
    copyPage(site);
    copyTree(ROOT.resolve("web/test-fixtures/results"), site.resolve("results"));
    copyTree(ROOT.resolve("web/test-fixtures/canvass"), site.resolve("canvass"));
    gzipAll(site.resolve("results"));
    gzipAll(site.resolve("canvass"));
    Files.writeString(site.resolve("results/.index.json.tmp"), "{\"partial");   // a publisher's temporary file
    JsonNode index = JSON.readTree(site.resolve("results/index.json").toFile());

    try (NginxServer nginx = NginxServer.start(nginxBinary(), dir.resolve("nginx"), TestDatabase.freePort(), 1,
        TestDatabase.freePort(), site);
        Chromium browser = Chromium.start(chromiumBinary(), dir.resolve("chromium"))) {
      int port = nginx.resultsPort();
      String base = "http://127.0.0.1:" + port + "/";

      // ---- the snippet ----
      Resp page = get(port, "/", false, null);
      assertEquals(200, page.code);
      assertEquals("text/html; charset=utf-8", page.header("content-type"));
      assertEquals("public, max-age=5", page.header("cache-control"));
      assertArrayEquals(Files.readAllBytes(site.resolve("index.html")), page.body, "/ serves index.html");
      assertEquals("application/javascript; charset=utf-8", get(port, "/app.js", false, null).header("content-type"));
      assertEquals("text/css; charset=utf-8", get(port, "/style.css", false, null).header("content-type"));
      for (String f : List.of("results/index.json", "results/status.json", "results/ballot/city-0.json",
          "canvass/cells.geojson")) {
        String type = f.endsWith(".geojson") ? "application/geo+json" : "application/json";
        Resp plain = get(port, "/" + f, false, null);
        assertEquals(200, plain.code, f);
        assertEquals(type, plain.header("content-type"), f);
        assertEquals("public, max-age=5", plain.header("cache-control"), f);
        assertArrayEquals(Files.readAllBytes(site.resolve(f)), plain.body, f);
        Resp gz = get(port, "/" + f, true, null);
        assertEquals("gzip", gz.header("content-encoding"), f);
        assertEquals("Accept-Encoding", gz.header("vary"), f);
        assertArrayEquals(Files.readAllBytes(site.resolve(f + ".gz")), gz.body, f + ": gzip_static sends the .gz as written");
        String etag = plain.header("etag");
        assertTrue(etag != null && !etag.isEmpty(), f + " has an ETag");
        assertEquals(304, get(port, "/" + f, false, etag).code, f + " revalidates to 304");
      }
      for (String f : List.of("/results/", "/results/ballot/", "/canvass/", "/results/index.json.gz",
          "/results/ballot/city-0.json.gz", "/results/.index.json.tmp", "/test-fixtures/", "/nginx.conf",
          "/results/ballot/../index.json.gz", "/results/ballot/%2e%2e/index.json.gz", "/b/vote.gif", "/index.htm")) {
        assertEquals(404, get(port, f, false, null).code, f + " must not be reachable");
      }

      // ---- the page on the fixture files: checked_at is long past, so stale, with the data shown ----
      browser.navigate(base);
      browser.await(Duration.ofSeconds(20), "page rendered", "document.documentElement.dataset.state === 'stale'"
          + " && document.querySelectorAll('#ballots li.ballot').length === " + index.path("ballots").size(), DESCRIBE);
      assertEquals(expectedList(index), shownList(browser));
      assertTrue(browser.eval("document.getElementById('stale').textContent").asText()
          .contains("not been checked for updates since"), staleText(browser));
      assertEquals("4 ballots.", browser.eval("document.getElementById('list-count').textContent").asText());
      // a figure as a reader sees it, in text
      assertEquals("1,204 votes, 58.7%", browser.eval(
          "document.querySelector('li[data-ballot=\"city-0\"] li[data-choice=\"yes\"] .cnum').textContent").asText());
      browser.screenshot(SHOTS.resolve("results-page-fixtures.png"));

      // fresh status: no notice
      writeStatus(site, Instant.now(), true, null);
      browser.navigate(base + "#/");
      browser.await(Duration.ofSeconds(20), "fresh", "document.documentElement.dataset.state === 'fresh'"
          + " && document.getElementById('stale').hidden", DESCRIBE);
      // ok:false with the publisher's error
      writeStatus(site, Instant.now(), false, "database unreachable: Connection refused");
      browser.navigate(base + "#/");
      browser.await(Duration.ofSeconds(20), "stale on ok:false", "document.documentElement.dataset.state === 'stale'"
          + " && document.getElementById('stale').textContent.includes('database unreachable: Connection refused')", DESCRIBE);
      // a failed fetch: status.json gone; the last good data stays
      writeStatus(site, Instant.now(), true, null);
      browser.navigate(base + "#/");
      browser.await(Duration.ofSeconds(20), "fresh again", "document.documentElement.dataset.state === 'fresh'", DESCRIBE);
      Files.delete(site.resolve("results/status.json"));
      Files.delete(site.resolve("results/status.json.gz"));
      browser.eval("document.dispatchEvent(new Event('visibilitychange')), true");   // poll now
      browser.await(Duration.ofSeconds(20), "stale on a failed fetch", "document.documentElement.dataset.state === 'stale'"
          + " && document.getElementById('stale').textContent.includes('HTTP 404')", DESCRIBE);
      assertEquals(expectedList(index), shownList(browser), "the last good data stays on screen");
      writeStatus(site, Instant.now(), true, null);

      // ---- keyboard: Tab to the first ballot's link (skip link, home, filter, city-0), visible focus, Enter ----
      browser.navigate(base + "#/");
      browser.await(Duration.ofSeconds(20), "fresh", "document.documentElement.dataset.state === 'fresh'", DESCRIBE);
      for (int i = 0; i < 4; i++) {
        browser.press("Tab");
      }
      assertEquals("#/ballot/city-0", browser.eval("document.activeElement.getAttribute('href')").asText(),
          "the fourth Tab reaches the first ballot");
      JsonNode outline = browser.eval("(() => { const s = getComputedStyle(document.activeElement);"
          + " return [s.outlineStyle, parseFloat(s.outlineWidth)]; })()");
      assertFalse("none".equals(outline.get(0).asText()) || outline.get(1).asDouble() < 2, "visible focus: " + outline);
      browser.press("Enter");
      browser.await(Duration.ofSeconds(20), "ballot page by keyboard", "location.hash === '#/ballot/city-0'"
          + " && document.activeElement.id === 'ballot-title'"
          + " && document.querySelectorAll('#ballot-body tr.choice').length === 3", DESCRIBE);
      JsonNode ballot = JSON.readTree(site.resolve("results/ballot/city-0.json").toFile());
      assertEquals(expectedBallot(ballot), shownBallot(browser));

      // ---- a phone: nothing scrolls sideways at 360 px, list and ballot page (64-character names) ----
      browser.viewport(360, 800, true);
      String longName = "mayor.2026_long-name-of-a-ballot-with-no-spaces-to-test-wrapping";
      for (String h : List.of("#/", "#/ballot/" + longName, "#/ballot/city-0")) {
        browser.navigate(base + h);
        browser.await(Duration.ofSeconds(20), "rendered " + h, h.equals("#/")
            ? "document.querySelectorAll('#ballots li.ballot').length === 4"
            : "document.querySelectorAll('#ballot-body tr.choice').length > 0", DESCRIBE);
        assertTrue(browser.eval("document.documentElement.scrollWidth <= window.innerWidth").asBoolean(),
            h + " scrolls sideways at 360 px: " + browser.eval("[document.documentElement.scrollWidth, window.innerWidth]"));
      }
      browser.screenshot(SHOTS.resolve("results-page-fixtures-phone.png"));
      browser.viewport(1200, 900, false);

      // ---- 5,000 ballots: 100 cards at first, "Show more", the filter ----
      writeBig(site, 5_000);
      browser.navigate(base + "#/");
      browser.await(Duration.ofSeconds(30), "5,000 ballots", "document.getElementById('list-count').dataset.total === '5000'"
          + " && document.querySelectorAll('#ballots li.ballot').length === 100", DESCRIBE);
      assertEquals("5000 ballots; showing the first 100.", browser.eval("document.getElementById('list-count').textContent").asText());
      browser.eval("document.getElementById('more').click(), true");
      browser.await(Duration.ofSeconds(10), "200 shown", "document.querySelectorAll('#ballots li.ballot').length === 200", DESCRIBE);
      browser.eval("(() => { const f = document.getElementById('filter'); f.value = 'city-4999';"
          + " f.dispatchEvent(new Event('input')); return true; })()");
      browser.await(Duration.ofSeconds(10), "filtered to city-4999", "location.hash === '#/?q=city-4999'"
          + " && document.querySelectorAll('#ballots li.ballot').length === 1"
          + " && document.querySelector('#ballots li.ballot').dataset.ballot === 'city-4999'", DESCRIBE);
      browser.eval("(() => { const f = document.getElementById('filter'); f.value = 'city-12';"
          + " f.dispatchEvent(new Event('input')); return true; })()");
      // city-12, city-120..129, city-1200..1299: 1 + 10 + 100
      browser.await(Duration.ofSeconds(10), "filtered to city-12*", "document.getElementById('list-count').dataset.matching === '111'"
          + " && document.querySelectorAll('#ballots li.ballot').length === 100", DESCRIBE);
    }
  }

  static final class Opts {
    @CommandLine.Mixin WorkerOptions worker = new WorkerOptions();
    @CommandLine.Mixin AdminOptions admin = new AdminOptions();
  }

  @Test
  void liveResultsFromTheRealPublisherWhileLogtailIngests() throws Exception {
    Path nginxBin = nginxBinary();
    Path chromium = chromiumBinary();
    String url = TestDatabase.createDatabase("results_e2e");
    Path site = dir.resolve("publish");
    copyPage(site);
    LogGenerator.Mix mix = new LogGenerator.Mix();
    mix.ballots = 6;
    mix.choicesPerBallot = 3;
    mix.voters = 3_000;           // about 5k votes over 3k voters x 6 ballots: duplicates happen
    mix.resendShare = 0.03;
    mix.badShare = 0.02;
    mix.roll = true;              // every voter on the roll (scope '*'): the page shows turnout
    Path roll = dir.resolve("roll.txt");
    try (OutputStream out = Files.newOutputStream(roll)) {
      new LogGenerator(11, mix).writeRoll(out);
    }
    int clients = 4;
    int perClient = 3_000;

    try (NginxServer nginx = NginxServer.start(nginxBin, dir.resolve("nginx"), TestDatabase.freePort(), 2,
        TestDatabase.freePort(), site);
        Chromium browser = Chromium.start(chromium, dir.resolve("chromium"))) {
      String base = "http://127.0.0.1:" + nginx.resultsPort() + "/";
      Opts o = new Opts();
      new CommandLine(o).parseArgs("--log", nginx.beaconLogGlob(), "--db-url", url,
          "--data-dir", dir.resolve("data").toString(), "--node-id", "web", "--status-addr", "127.0.0.1:0",
          "--heartbeat-timeout", "15s", "--fsync-interval", "500ms", "--batch-lines", "1500",
          "--publish-dir", site.toString(), "--publish-interval", "1s");
      AdminProcess admin = new AdminProcess(o.worker, o.admin).start();
      BeaconClients load = new BeaconClients("127.0.0.1", nginx.port(), clients, 11, mix, 1_000, perClient,
          System::nanoTime);
      try {
        AdminTestSupport.await(Duration.ofSeconds(60), "worker running",
            () -> "running".equals(admin.status().path("worker").path("state").asText()), admin::status);
        java.io.StringWriter rollOut = new java.io.StringWriter();
        CommandLine rollCmd = io.logtail.cli.LogtailCli.commandLine();
        rollCmd.setOut(new java.io.PrintWriter(rollOut, true));
        rollCmd.setErr(new java.io.PrintWriter(rollOut, true));
        assertEquals(0, rollCmd.execute("roll", "load", "--db-url", url, "--scope", "*", roll.toString()), rollOut.toString());
        load.start();

        // ---- while logtail ingests: the page's numbers are vote_tallies at the batch its index names ----
        AdminTestSupport.await(Duration.ofSeconds(60), "a quarter of the beacons sent",
            () -> load.sent() >= (long) clients * perClient / 4 || load.errors() > 0, load::problems);
        browser.navigate(base);
        browser.await(Duration.ofSeconds(30), "live results", "document.documentElement.dataset.state === 'fresh'"
            + " && document.querySelectorAll('#ballots li.ballot').length > 0", DESCRIBE);
        JsonNode shownBatches = JSON.readTree(browser.eval("document.getElementById('updated').dataset.batches").asText());
        Map<String, List<String>> mid = shownList(browser);
        long midBatch = shownBatches.path("web").asLong();
        assertTrue(midBatch > 0, "the page names a batch: " + shownBatches);
        assertEquals(talliesAtBatch(url, "web", midBatch), mid, "the page vs the votes committed up to batch " + midBatch);
        assertFalse(load.done(), "the first check ran while beacons were still being sent");
        browser.screenshot(SHOTS.resolve("results-page-live.png"));

        load.awaitDone();
        assertEquals(List.of(), load.problems(), "requests nginx did not answer as expected");
        long lines = load.expected().lines;
        AdminTestSupport.await(Duration.ofSeconds(60), "every line committed",
            () -> AdminTestSupport.queryLong(url, "SELECT coalesce(sum(lines), 0) FROM batches") >= lines, admin::status);
        long lastBatch = AdminTestSupport.queryLong(url,
            "SELECT max(batch_id) FROM batches JOIN nodes USING (node_id) WHERE name = 'web'");
        // the page follows by itself (no reload): its index names the last batch
        browser.await(Duration.ofSeconds(30), "the page at batch " + lastBatch,
            "JSON.parse(document.getElementById('updated').dataset.batches || '{}').web === " + lastBatch, DESCRIBE);
        assertTrue(midBatch < lastBatch, midBatch + " < " + lastBatch);
        Map<String, List<String>> tallies = talliesNow(url);
        assertEquals(tallies, shownList(browser), "the page vs vote_tallies after the last batch");
        assertEquals(mix.ballots, tallies.size());
        // turnout against the roll of 3,000 voters, in text
        for (Map.Entry<String, List<String>> e : tallies.entrySet()) {
          String t = browser.eval("document.querySelector('li[data-ballot=\"" + e.getKey() + "\"] [data-field=turnout]').textContent").asText();
          assertTrue(t.matches(", turnout [0-9.]+% \\(" + String.format(java.util.Locale.US, "%,d", Long.parseLong(e.getValue().get(0)))
              + " of 3,000 on the roll\\)"), e.getKey() + ": " + t);
        }
        browser.screenshot(SHOTS.resolve("results-page.png"));

        // ---- a ballot's page, reached as a visitor does (its link) ----
        String ballot = tallies.keySet().iterator().next();
        browser.eval("document.querySelector('#ballots a[href=\"#/ballot/" + ballot + "\"]').click(), true");
        browser.await(Duration.ofSeconds(30), "ballot page", "location.hash === '#/ballot/" + ballot + "'"
            + " && document.getElementById('ballot-body').dataset.ballot === '" + ballot + "'", DESCRIBE);
        List<String> shown = shownBallot(browser);
        JsonNode file = JSON.readTree(site.resolve("results/ballot/" + ballot + ".json").toFile());
        assertEquals(expectedBallot(file), shown, "the ballot page vs its file");
        List<String> fromDb = new java.util.ArrayList<>();
        fromDb.add("ballot=" + ballot);
        fromDb.addAll(tallies.get(ballot).stream().map(x -> x.contains("=") ? "choice " + x : "votes=" + x).toList());
        fromDb.add("duplicates=" + AdminTestSupport.queryLong(url,
            "SELECT coalesce(sum(attempts), 0) FROM vote_duplicates WHERE ballot = '" + ballot + "'"));
        assertEquals(fromDb, shown.subList(0, fromDb.size()), "the ballot page vs vote_tallies and vote_duplicates");
        assertTrue(shown.get(fromDb.size() - 1).matches("duplicates=[1-9][0-9]*"), "duplicates happened: " + shown);
        browser.screenshot(SHOTS.resolve("results-page-ballot.png"));
        browser.viewport(360, 800, true);
        assertTrue(browser.eval("document.documentElement.scrollWidth <= window.innerWidth").asBoolean(), "360 px");
        browser.screenshot(SHOTS.resolve("results-page-ballot-phone.png"));
        browser.viewport(1200, 900, false);

        // ---- the publisher stops: the notice appears by itself, the last good data stays ----
        browser.navigate(base);
        browser.await(Duration.ofSeconds(30), "fresh", "document.documentElement.dataset.state === 'fresh'", DESCRIBE);
        load.close();
        admin.close();
        browser.await(Duration.ofSeconds(30), "the stale notice", "document.documentElement.dataset.state === 'stale'"
            + " && !document.getElementById('stale').hidden", DESCRIBE);
        assertTrue(staleText(browser).contains("not been checked for updates since"), staleText(browser));
        assertEquals(tallies, shownList(browser), "the last good data stays on screen");
        browser.screenshot(SHOTS.resolve("results-page-stale.png"));
      } finally {
        load.close();
        admin.close();
      }
    }
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

  private static Map<String, List<String>> tallies(String url, String sql, String node, long batch) throws Exception {
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

  private static void copyTree(Path from, Path to) throws IOException {
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
  private static void gzipAll(Path d) throws IOException {
    try (Stream<Path> s = Files.walk(d)) {
      for (Path p : s.filter(Files::isRegularFile).toList()) {
        writeWithGz(p, Files.readAllBytes(p));
      }
    }
  }

  private static void writeWithGz(Path p, byte[] content) throws IOException {
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

  private static void writeStatus(Path site, Instant checked, boolean ok, String error) throws IOException {
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
  private static void writeBig(Path site, int n) throws IOException {
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
