package io.logtail.gen;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Deterministic nginx {@code combined} access-log lines of beacons, for tests, {@code ./logtail bench}
 * and the demo, together with the outcome they must have in the database, computed here from what was
 * generated (independently of the parser and the flusher): tallies, counted votes, duplicates,
 * retransmits, canvass records and re-sends, rejects by reason, skipped lines.
 *
 * <p>The mix: votes (some voters vote twice on a ballot, some clients re-send the same vote with the
 * same eid), canvass records (some re-sent), ordinary site traffic, and bad lines of several kinds.
 * The same seed gives the same lines, byte for byte.
 */
public final class LogGenerator {
  /** What the database must hold after ingesting every generated line exactly once. */
  public static final class Expected {
    public final Map<String, Long> tallies = new HashMap<>(); // "ballot\tchoice" -> votes
    public final Map<String, Long> rejects = new HashMap<>(); // reason -> lines
    public long lines;
    public long votes;
    public long duplicates;
    public long retransmits;
    public long canvass;
    public long resends;
    public long skipped;
    public final Map<String, Long> cells = new HashMap<>(); // "lat\tlon\tkind\tissue\tstance" -> records

    public long rejected() {
      return rejects.values().stream().mapToLong(Long::longValue).sum();
    }

    /** Adds {@code o} into this: the expectation of two generators whose keys are disjoint. */
    public void add(Expected o) {
      o.tallies.forEach((k, v) -> tallies.merge(k, v, Long::sum));
      o.rejects.forEach((k, v) -> rejects.merge(k, v, Long::sum));
      o.cells.forEach((k, v) -> cells.merge(k, v, Long::sum));
      lines += o.lines;
      votes += o.votes;
      duplicates += o.duplicates;
      retransmits += o.retransmits;
      canvass += o.canvass;
      resends += o.resends;
      skipped += o.skipped;
    }
  }

  /**
   * One HTTP request of {@link #nextRequest()}: what a client sends to nginx and the status nginx
   * (with the shipped beacon snippet) answers; {@code logged} says whether it goes to the beacon log.
   */
  public record Request(String method, String target, String userAgent, int status, boolean logged) {}

  /** Tunables; defaults give about 50% votes, 49% canvass, 1% bad, a little ordinary traffic. */
  public static final class Mix {
    public int ballots = 20;
    public int choicesPerBallot = 4;
    public int voters = 200_000;
    public double voteShare = 0.50;
    public double badShare = 0.01;
    public double trafficShare = 0.005;
    /** Of votes: share that repeat an earlier vote line verbatim (client re-send, same eid). */
    public double resendShare = 0.01;
    /** Share of voters not on the roll, when {@link #roll} is set. */
    public double offRollShare = 0.0;
    public boolean roll;
    public long startEpochSecond = 1_795_424_400L; // 2026-11-23T08:20:00Z
    public int linesPerSecond = 20_000;
    /**
     * Several generators writing into one database (one per client) stay disjoint with a distinct
     * {@code idPrefix} (prefixed to every eid) and voter partition: this generator uses the voters
     * {@code i} with {@code i % voterStride == voterOffset}.
     */
    public String idPrefix = "";
    public int voterStride = 1;
    public int voterOffset = 0;

    /** A copy with every field, to vary per generator. */
    public Mix copy() {
      Mix c = new Mix();
      c.ballots = ballots;
      c.choicesPerBallot = choicesPerBallot;
      c.voters = voters;
      c.voteShare = voteShare;
      c.badShare = badShare;
      c.trafficShare = trafficShare;
      c.resendShare = resendShare;
      c.offRollShare = offRollShare;
      c.roll = roll;
      c.startEpochSecond = startEpochSecond;
      c.linesPerSecond = linesPerSecond;
      c.idPrefix = idPrefix;
      c.voterStride = voterStride;
      c.voterOffset = voterOffset;
      return c;
    }
  }

  private static final DateTimeFormatter TIME_LOCAL =
      DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ROOT).withZone(ZoneOffset.UTC);
  private static final String[] ISSUES = {"transport", "housing", "schools", "parks"};
  private static final String[] STANCES = {"yes", "no", "undecided"};
  private static final String[] BAD = {
    "this is not an access log line",
    "127.0.0.1 - - [23/Nov/2026:09:00:29 +0000] \"GET /b/vote.gif?ballot=b1&choice=x&voter=zz HTTP/1.1\" 200 43 \"-\" \"t\"",
    "127.0.0.1 - - [23/Nov/2026:09:00:29 +0000] \"GET /b/unknown.gif?x=1 HTTP/1.1\" 200 43 \"-\" \"t\"",
    "127.0.0.1 - - [23/Nov/2026:09:00:29 +0000] \"GET /b/canvass.gif?kind=visit&dwelling=d1&canvasser=u1&lat=95.1&lon=2.0&eid=bad-lat HTTP/1.1\" 200 43 \"-\" \"t\"",
    "127.0.0.1 - - [23/Nov/2026:09:00:29 +0000] \"GET /b/vote.gif?ballot=b1%ZZ&choice=x HTTP/1.1\" 200 43 \"-\" \"t\"",
  };
  private static final String[] BAD_REASONS = {
    "malformed_line", "bad_voter", "unknown_beacon", "bad_lat", "bad_percent_encoding"
  };

  /** Bad beacons a client can send over HTTP: method, target, reject reason, nginx status. */
  private static final String[][] BAD_HTTP = {
    {"GET", "/b/vote.gif?ballot=b1&choice=x&voter=zz", "bad_voter", "200"},
    {"GET", "/b/unknown.gif?x=1", "unknown_beacon", "200"},
    {"GET", "/b/canvass.gif?kind=visit&dwelling=d1&canvasser=u1&lat=95.1&lon=2.0&eid=bad-lat", "bad_lat", "200"},
    {"GET", "/b/vote.gif?ballot=b1%ZZ&choice=x", "bad_percent_encoding", "200"},
    {"GET", "/b/vote.gif?ballot=b1;DROP+TABLE+votes;--&choice=x&voter=00", "bad_ballot", "200"},
    {"POST", "/b/vote.gif?ballot=b1&choice=x&voter=00", "method_not_get", "405"},
  };

  private final SplittableRandom rnd;
  private final Mix mix;
  private final Expected expected = new Expected();
  private final Map<Long, String[]> firstVote = new HashMap<>(); // key(ballot,voter) -> {choice, eid}
  private final List<String> sentVotes = new ArrayList<>();
  private final List<Integer> sentVoters = new ArrayList<>();
  private final List<String> sentCanvass = new ArrayList<>();
  private final Set<String> canvassEids = new HashSet<>();
  private final StringBuilder sb = new StringBuilder(320);
  private long seq;
  private String timeCache;
  private long timeCacheSecond = Long.MIN_VALUE;

  public LogGenerator(long seed, Mix mix) {
    this.rnd = new SplittableRandom(seed);
    this.mix = mix;
  }

  public Expected expected() {
    return expected;
  }

  /** The voter hash of voter number {@code i}: 64 hex digits. */
  public static String voterHash(int i) {
    long a = mixBits(i * 0x9E3779B97F4A7C15L + 1);
    long b = mixBits(a + 0x632BE59BD9B4E019L);
    long c = mixBits(b + 0x85157AF5L);
    long d = mixBits(c + 0x2545F4914F6CDD1DL);
    return String.format("%016x%016x%016x%016x", a, b, c, d);
  }

  /** Whether voter {@code i} is on the roll when the mix has one. */
  public boolean onRoll(int i) {
    return !mix.roll || (mixBits(i * 31L + 7) >>> 11) % 10_000 >= (long) (mix.offRollShare * 10_000);
  }

  /** Writes the voter roll (one hash per line) for the mix's voters. */
  public void writeRoll(OutputStream out) throws IOException {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < mix.voters; i++) {
      if (onRoll(i)) {
        b.append(voterHash(i)).append('\n');
      }
      if (b.length() > 1 << 16) {
        out.write(b.toString().getBytes(StandardCharsets.US_ASCII));
        b.setLength(0);
      }
    }
    out.write(b.toString().getBytes(StandardCharsets.US_ASCII));
  }

  /** The next line, with its trailing newline. */
  public String nextLine() {
    seq++;
    expected.lines++;
    double p = rnd.nextDouble();
    long second = mix.startEpochSecond + seq / Math.max(1, mix.linesPerSecond);
    if (p < mix.badShare) {
      int k = rnd.nextInt(BAD.length);
      expected.rejects.merge(BAD_REASONS[k], 1L, Long::sum);
      return BAD[k] + "\n";
    }
    p -= mix.badShare;
    if (p < mix.trafficShare) {
      expected.skipped++;
      return prefix(second).append("GET /news/article-").append(rnd.nextInt(1000))
          .append(".html HTTP/1.1\" 200 5120 \"-\" \"Mozilla/5.0\"\n").toString();
    }
    p -= mix.trafficShare;
    String target = p < mix.voteShare ? vote() : canvass();
    return prefix(second).append("GET ").append(target).append(" HTTP/1.1\" 200 43 \"-\" \"")
        .append(target.startsWith("/b/vote") ? VOTE_UA : CANVASS_UA).append("\"\n").toString();
  }

  /**
   * The next request a beacon client sends to nginx, accounted in {@link #expected()} as nginx with
   * the shipped snippet logs it: beacons and bad beacons under {@code /b/} are lines of the beacon
   * log; ordinary site traffic is answered 404 elsewhere and is not.
   */
  public Request nextRequest() {
    seq++;
    double p = rnd.nextDouble();
    if (p < mix.badShare) {
      String[] bad = BAD_HTTP[rnd.nextInt(BAD_HTTP.length)];
      expected.lines++;
      expected.rejects.merge(bad[2], 1L, Long::sum);
      return new Request(bad[0], bad[1], "bad-client/0.1", Integer.parseInt(bad[3]), true);
    }
    p -= mix.badShare;
    if (p < mix.trafficShare) {
      return new Request("GET", "/news/article-" + rnd.nextInt(1000) + ".html", "Mozilla/5.0", 404, false);
    }
    p -= mix.trafficShare;
    expected.lines++;
    if (p < mix.voteShare) {
      return new Request("GET", vote(), VOTE_UA, 200, true);
    }
    return new Request("GET", canvass(), CANVASS_UA, 200, true);
  }

  private static final String VOTE_UA = "ballot-app/2.1";
  private static final String CANVASS_UA = "canvass-app/1.4";

  /** A vote's request target: a new vote, or a re-send of an earlier one (same eid). */
  private String vote() {
    if (!sentVotes.isEmpty() && rnd.nextDouble() < mix.resendShare) {
      int i = rnd.nextInt(sentVotes.size());
      String again = sentVotes.get(i);
      accountVote(again, sentVoters.get(i));
      return again;
    }
    int ballot = rnd.nextInt(mix.ballots);
    int voter = voter();
    int choice = rnd.nextInt(mix.choicesPerBallot);
    String eid = mix.idPrefix + "v" + seq;
    String line = "/b/vote.gif?ballot=city-" + ballot + "&choice=c" + choice + "&voter=" + voterHash(voter)
        + "&eid=" + eid;
    if (sentVotes.size() < 4096) {
      sentVotes.add(line);
      sentVoters.add(voter);
    } else {
      int i = rnd.nextInt(4096);
      sentVotes.set(i, line);
      sentVoters.set(i, voter);
    }
    accountVote(line, voter);
    return line;
  }

  /** Accounts a vote line by its parameters, exactly as the rules say. */
  private void accountVote(String line, int voter) {
    String ballot = param(line, "ballot");
    String choice = param(line, "choice");
    String eid = param(line, "eid");
    if (!onRoll(voter)) {
      expected.rejects.merge("unknown_voter", 1L, Long::sum);
      return;
    }
    long key = ((long) ballot.hashCode() << 32) ^ voter;
    String[] first = firstVote.get(key);
    if (first == null) {
      firstVote.put(key, new String[] {choice, eid});
      expected.votes++;
      expected.tallies.merge(ballot + "\t" + choice, 1L, Long::sum);
    } else if (eid != null && eid.equals(first[1])) {
      expected.retransmits++;
    } else {
      expected.duplicates++;
    }
  }

  private int voter() {
    int stride = Math.max(1, mix.voterStride);
    int slots = Math.max(1, (mix.voters - mix.voterOffset + stride - 1) / stride);
    return rnd.nextInt(slots) * stride + mix.voterOffset;
  }

  /** A canvass record's request target: a new record, or a re-send of an earlier one (same eid). */
  private String canvass() {
    if (!sentCanvass.isEmpty() && rnd.nextDouble() < mix.resendShare) {
      expected.resends++;
      return sentCanvass.get(rnd.nextInt(sentCanvass.size()));
    }
    String eid = mix.idPrefix + "c" + seq;
    int k = rnd.nextInt(10);
    String kind = k < 5 ? "visit" : k < 9 ? "intention" : "followup";
    // lat 48.8xxx, lon 2.3xxx (some negative longitudes for cell arithmetic)
    int latMicro = 48_800_000 + rnd.nextInt(100_000);
    int lonMicro = -50_000 + rnd.nextInt(400_000);
    String lat = decimal(latMicro);
    String lon = decimal(lonMicro);
    StringBuilder b = new StringBuilder(200).append("/b/canvass.gif?kind=").append(kind)
        .append("&dwelling=dw-").append(rnd.nextInt(1_000_000)).append("&canvasser=u")
        .append(rnd.nextInt(500)).append("&lat=").append(lat).append("&lon=").append(lon)
        .append("&eid=").append(eid);
    String issue = "";
    String stance = "";
    if (kind.equals("intention")) {
      issue = ISSUES[rnd.nextInt(ISSUES.length)];
      stance = STANCES[rnd.nextInt(STANCES.length)];
      b.append("&issue=").append(issue).append("&stance=").append(stance);
    } else if (kind.equals("followup")) {
      b.append("&request=call+back+after+6pm%2C+ask+for+Ana");
    }
    String line = b.toString();
    canvassEids.add(eid);
    expected.canvass++;
    expected.cells.merge(Math.floorDiv(latMicro, 1000) + "\t" + Math.floorDiv(lonMicro, 1000) + "\t"
        + kind + "\t" + issue + "\t" + stance, 1L, Long::sum);
    if (sentCanvass.size() < 4096) {
      sentCanvass.add(line);
    } else {
      sentCanvass.set(rnd.nextInt(4096), line);
    }
    return line;
  }

  private static String decimal(int micro) {
    String sign = micro < 0 ? "-" : "";
    int a = Math.abs(micro);
    return sign + (a / 1_000_000) + "." + String.format("%06d", a % 1_000_000);
  }

  private StringBuilder prefix(long second) {
    if (second != timeCacheSecond) {
      timeCacheSecond = second;
      timeCache = TIME_LOCAL.format(Instant.ofEpochSecond(second));
    }
    sb.setLength(0);
    return sb.append("10.").append(rnd.nextInt(256)).append('.').append(rnd.nextInt(256)).append('.')
        .append(rnd.nextInt(256)).append(" - - [").append(timeCache).append("] \"");
  }

  private static String param(String line, String name) {
    int q = line.indexOf('?');
    int end = line.indexOf(' ', q);
    String query = line.substring(q + 1, end < 0 ? line.length() : end);
    for (String kv : query.split("&")) {
      int eq = kv.indexOf('=');
      if (eq > 0 && kv.substring(0, eq).equals(name)) {
        return kv.substring(eq + 1);
      }
    }
    return null;
  }

  private static long mixBits(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
