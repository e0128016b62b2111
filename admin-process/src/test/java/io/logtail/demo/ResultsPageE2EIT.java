package io.logtail.demo;

import static io.logtail.demo.ResultsPageSupport.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.logtail.admin.AdminProcess;
import io.logtail.admin.AdminTestSupport;
import io.logtail.db.TestDatabase;
import io.logtail.gen.LogGenerator;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The results page end to end, with the real publisher: a real nginx serving beacons (the shipped
 * {@code nginx-beacons.conf}) and the page with the publish directory (the shipped
 * {@code nginx-results.conf}), the admin process with its publisher ({@code --publish-dir}, every
 * second) and a voter roll, 4 HTTP clients firing beacons, and a real headless Chromium
 * ({@link Chromium}) reading the page as a visitor does. Mid-run the numbers the page shows equal the
 * votes committed up to the batch its index names; after the last batch they equal {@code vote_tallies}
 * (turnout against the roll too), the page having followed by itself; a ballot's page, reached by its
 * link, equals {@code vote_tallies}, {@code vote_duplicates} and its file; the publisher stopped, the
 * stale notice appears by itself over the last good numbers. Screenshots in {@code admin-process/target/}
 * ({@code results-page.png} is the one in docs/img/). The page on fixture files: {@link ResultsPageFixturesIT}.
 *
 * <p>Needs nginx and chromium ({@code ./run-tests} installs both as root); fails, not skips, without.
 */
class ResultsPageE2EIT {
  @TempDir Path dir;

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
      NginxE2EIT.Opts o = new NginxE2EIT.Opts();   // the worker's and the admin's options, as `run` has them
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
}
