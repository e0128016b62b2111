package io.logtail.demo;

import static io.logtail.demo.ResultsPageSupport.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.logtail.db.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The results page and its nginx snippet on the hand-written files of {@code web/test-fixtures/}: a real
 * nginx with the shipped {@code systemd/nginx-results.conf} and a real headless Chromium
 * ({@link Chromium}, the DevTools protocol). nginx's types, Cache-Control, gzip_static (the .gz bytes as
 * written), ETag/304 and 404 for everything else; the page's numbers equal the files', the stale notice
 * for each cause (old checked_at, ok:false, a failed fetch) with the last good data still shown, the
 * ballot page, a ballot without a file, keyboard navigation with a visible focus, no sideways scroll at
 * 360 px, 5,000 ballots with "Show more" and the filter. The real publisher: {@link ResultsPageE2EIT}.
 *
 * <p>Needs nginx and chromium ({@code ./run-tests} installs both as root); fails, not skips, without.
 */
class ResultsPageFixturesIT {
  @TempDir Path dir;

  @Test
  void pageAndSnippetOnFixtureFiles() throws Exception {
    Path site = dir.resolve("site");
    copyPage(site);
    copyTree(ROOT.resolve("web/test-fixtures/results"), site.resolve("results"));
    copyTree(ROOT.resolve("web/test-fixtures/canvass"), site.resolve("canvass"));
    gzipAll(site.resolve("results"));
    gzipAll(site.resolve("canvass"));
    Files.writeString(site.resolve("results/.index.json.tmp"), "{\"partial");   // a publisher's temporary file
    Files.writeString(site.resolve(".publish.lock"), "");                        // the publisher's lock
    JsonNode index = JSON.readTree(site.resolve("results/index.json").toFile());

    try (NginxServer nginx = NginxServer.start(nginxBinary(), dir.resolve("nginx"), TestDatabase.freePort(), 1,
        TestDatabase.freePort(), site);
        Chromium browser = Chromium.start(chromiumBinary(), dir.resolve("chromium"))) {
      int port = nginx.resultsPort();
      String base = "http://127.0.0.1:" + port + "/";

      // ---- the snippet ----
      Resp page = get(port, "/", false, null);
      assertEquals(200, page.code());
      assertEquals("text/html; charset=utf-8", page.header("content-type"));
      assertEquals("public, max-age=5", page.header("cache-control"));
      assertArrayEquals(Files.readAllBytes(site.resolve("index.html")), page.body(), "/ serves index.html");
      assertEquals("application/javascript; charset=utf-8", get(port, "/app.js", false, null).header("content-type"));
      assertEquals("text/css; charset=utf-8", get(port, "/style.css", false, null).header("content-type"));
      for (String f : List.of("results/index.json", "results/status.json", "results/ballot/city-0.json",
          "canvass/cells.geojson")) {
        String type = f.endsWith(".geojson") ? "application/geo+json" : "application/json";
        Resp plain = get(port, "/" + f, false, null);
        assertEquals(200, plain.code(), f);
        assertEquals(type, plain.header("content-type"), f);
        assertEquals("public, max-age=5", plain.header("cache-control"), f);
        assertArrayEquals(Files.readAllBytes(site.resolve(f)), plain.body(), f);
        Resp gz = get(port, "/" + f, true, null);
        assertEquals("gzip", gz.header("content-encoding"), f);
        assertEquals("Accept-Encoding", gz.header("vary"), f);
        assertArrayEquals(Files.readAllBytes(site.resolve(f + ".gz")), gz.body(), f + ": gzip_static sends the .gz as written");
        String etag = plain.header("etag");
        assertTrue(etag != null && !etag.isEmpty(), f + " has an ETag");
        assertEquals(304, get(port, "/" + f, false, etag).code(), f + " revalidates to 304");
      }
      for (String f : List.of("/results/", "/results/ballot/", "/canvass/", "/results/index.json.gz",
          "/results/ballot/city-0.json.gz", "/results/.index.json.tmp", "/.publish.lock", "/test-fixtures/", "/nginx.conf",
          "/results/ballot/../index.json.gz", "/results/ballot/%2e%2e/index.json.gz", "/b/vote.gif", "/index.htm")) {
        assertEquals(404, get(port, f, false, null).code(), f + " must not be reachable");
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

      // a ballot without a file (an unknown name, or one that is no identifier): said so, not stale
      for (String h : List.of("#/ballot/no-such-ballot", "#/ballot/a%2F..%2Findex")) {
        browser.navigate(base + h);
        browser.await(Duration.ofSeconds(20), "no file for " + h, "document.documentElement.dataset.state === 'fresh'"
            + " && document.getElementById('ballot-body').textContent.includes('No results have been published for this ballot')",
            DESCRIBE);
      }

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
}
