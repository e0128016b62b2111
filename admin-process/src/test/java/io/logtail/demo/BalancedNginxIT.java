package io.logtail.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.logtail.admin.ClusterSupport;
import io.logtail.db.TestDatabase;
import io.logtail.gen.BalancerSplit;
import io.logtail.gen.ExpectedCheck;
import io.logtail.gen.LogGenerator;
import io.logtail.worker.DbAssert;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end through a real nginx balancer: the shipped {@code systemd/nginx-balancer.conf} (only its
 * listen port and upstream hosts rewritten) in front of three real nginx beacon hosts, each the shipped
 * {@code systemd/nginx-beacons.conf} on a port of its own with its own access log, each log tailed by
 * its own logtail node (a worker process), all into one PostgreSQL. Concurrent clients fire votes,
 * re-sends, second votes, canvass records, bad beacons and a POST at the balancer. The database must
 * equal what the clients sent and got their answer for; every voter's votes and every eid's records
 * must be in exactly one host's log (the balancer's hash); and {@code logtail verify} over the three
 * nodes agrees.
 *
 * <p>Each beacon host runs one nginx worker, so that its log keeps the order in which one client's
 * requests reached it (a client waits for each answer). Needs nginx; fails, not skips, without.
 */
class BalancedNginxIT {
  @TempDir(cleanup = CleanupMode.ON_SUCCESS) Path dir;

  @Test
  void beaconsThroughTheShippedBalancerToThreeNodesLandExactlyOnce() throws Exception {
    Path nginxBin = NginxServer.findBinary().orElseThrow(() -> new AssertionError(
        "nginx is not installed; ./run-tests installs it when run as root (apt-get install nginx)"));
    String url = TestDatabase.createDatabase("balanced_nginx");
    try (io.logtail.db.Database db = io.logtail.db.Database.builder(url).build()) {
      db.migrate();
    }
    List<String> names = List.of("h1", "h2", "h3");
    List<NginxServer> hosts = new ArrayList<>();
    List<Process> workers = new ArrayList<>();
    NginxServer balancer = null;
    int clients = 12;
    int perClient = 2_000;
    LogGenerator.Mix mix = new LogGenerator.Mix();
    mix.ballots = 6;
    mix.choicesPerBallot = 3;
    mix.voters = 9_000;
    mix.resendShare = 0.03;
    mix.badShare = 0.02;
    mix.trafficShare = 0.02;
    try {
      List<Integer> ports = new ArrayList<>();
      for (String n : names) {
        NginxServer h = NginxServer.start(nginxBin, dir.resolve(n), TestDatabase.freePort(), 1);
        hosts.add(h);
        ports.add(h.port());
        workers.add(startWorker(url, n, h.beaconLogGlob()));
      }
      balancer = NginxServer.startBalancer(nginxBin, dir.resolve("balancer"), TestDatabase.freePort(), ports, 2);
      String conf = Files.readString(balancer.dir().resolve("balancer.conf"));
      assertTrue(conf.contains("hash $shard_key consistent;") && conf.contains("/b/vote.gif  $arg_voter;"), conf);

      BeaconClients load = new BeaconClients("127.0.0.1", balancer.port(), clients, 11, mix, 3_000, perClient,
          System::nanoTime);
      LogGenerator.Expected expected;
      try {
        load.start();
        load.awaitDone();
        assertEquals(List.of(), load.problems(), "requests not answered as expected through the balancer");
        assertEquals(0, load.errors() + load.unexpected());
        assertEquals((long) clients * perClient, load.sent());
        expected = load.expected();
      } finally {
        load.close();
      }
      long logged = 0;
      Map<String, String> hostOfKey = new HashMap<>();
      for (int i = 0; i < hosts.size(); i++) {
        List<String> lines = Files.readAllLines(hosts.get(i).beaconLog(), StandardCharsets.ISO_8859_1);
        assertTrue(lines.size() > expected.lines / 6, names.get(i) + " got a share of the beacons: " + lines.size());
        logged += lines.size();
        for (String l : lines) {
          String key = BalancerSplit.shardKey(l);
          if (!key.isEmpty()) {
            String before = hostOfKey.putIfAbsent(key, names.get(i));
            assertTrue(before == null || before.equals(names.get(i)), "key " + key + " reached " + before + " and "
                + names.get(i) + ": the balancer must send one voter (one eid) always to one host");
          }
        }
      }
      assertEquals(expected.lines, logged, "the beacon hosts logged every /b/ request once");

      try (Connection c = DriverManager.getConnection(url)) {
        for (int i = 0; i < hosts.size(); i++) {
          long size = Files.size(hosts.get(i).beaconLog());
          String n = names.get(i);
          DbAssert.await(Duration.ofSeconds(120), n + " to commit its " + size + " bytes", () -> DbAssert.query(
              ds(url), "SELECT coalesce(sum(s.committed_offset), 0) FROM sources s JOIN nodes USING (node_id) WHERE name = '"
                  + n + "'") == size);
        }
        assertEquals(List.of(), ExpectedCheck.differences(c, expected), "database vs what the clients sent");
        assertTrue(expected.votes > 0 && expected.duplicates > 0 && expected.retransmits > 0 && expected.canvass > 0
            && expected.resends > 0 && expected.rejects.size() >= 5, "every kind of outcome happened");
      }
      ClusterSupport.Run v = ClusterSupport.verifyAll(url, names, hosts.stream().map(NginxServer::beaconLogGlob).toList());
      assertEquals(0, v.exit(), v.out());
      assertTrue(v.out().contains("CLUSTER AGREE"), v.out());
    } finally {
      for (Process p : workers) p.destroy();
      for (Process p : workers) assertTrue(p.waitFor(60, TimeUnit.SECONDS), "worker stops on SIGTERM");
      if (balancer != null) balancer.close();
      for (NginxServer h : hosts) h.close();
    }
  }

  private static javax.sql.DataSource ds(String url) {
    org.postgresql.ds.PGSimpleDataSource d = new org.postgresql.ds.PGSimpleDataSource();
    d.setUrl(url);
    return d;
  }

  private Process startWorker(String url, String node, String glob) throws Exception {
    return ClusterSupport.startWorker(url, node, glob, dir.resolve(node + "-data"), dir.resolve(node + ".log"));
  }
}
