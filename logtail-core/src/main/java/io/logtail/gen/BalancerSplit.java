package io.logtail.gen;

/**
 * Which node a beacon line reaches behind the shipped balancer ({@code systemd/nginx-balancer.conf}):
 * its {@code map $uri $shard_key { /b/vote.gif $arg_voter; default $arg_eid; }} keys votes by voter and
 * everything else by eid, and {@code hash $shard_key consistent} sends one key always to one node. The
 * exact node nginx picks (ketama over CRC32) does not matter to logtail; what matters, and what this
 * keeps, is the partition: every line of one voter (or one eid) goes to the same node, in log order.
 * Tests and {@code ./logtail bench --nodes} split one generated log this way into one log per node.
 */
public final class BalancerSplit {
  private BalancerSplit() {}

  /** The node (0..nodes-1) of an access-log line in combined format. */
  public static int nodeOf(CharSequence line, int nodes) {
    return Math.floorMod(shardKey(line).hashCode() * 0x9E3779B1, nodes);
  }

  /** {@code $shard_key} of the line: the voter of a vote, else the eid (empty when there is none). */
  public static String shardKey(CharSequence line) {
    String s = line.toString();
    int get = s.indexOf("\"GET ");
    if (get < 0) {
      get = s.indexOf("\"POST ");
    }
    if (get < 0) {
      return "";
    }
    int start = s.indexOf(' ', get) + 1;
    int end = s.indexOf(' ', start);
    if (end < 0) {
      end = s.length();
    }
    String target = s.substring(start, end);
    int q = target.indexOf('?');
    String uri = q < 0 ? target : target.substring(0, q);
    String args = q < 0 ? "" : target.substring(q + 1);
    return arg(args, uri.equals("/b/vote.gif") ? "voter" : "eid");
  }

  private static String arg(String args, String name) {
    for (String kv : args.split("&")) {
      if (kv.startsWith(name + "=")) {
        return kv.substring(name.length() + 1);
      }
    }
    return "";
  }
}
