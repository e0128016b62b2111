package io.logtail.parse;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class QueryStringTest {
  static List<String> pairs(QueryString q) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < q.count(); i++) {
      out.add(new String(q.keyBuf(i), q.keyOff(i), q.keyLen(i), StandardCharsets.ISO_8859_1) + "|"
          + new String(q.valBuf(i), q.valOff(i), q.valLen(i), StandardCharsets.ISO_8859_1));
    }
    return out;
  }

  static int parse(QueryString q, String s) {
    byte[] b = ("??" + s).getBytes(StandardCharsets.ISO_8859_1);
    return q.parse(b, 2, b.length - 2);
  }

  @Test
  void splitsAndDecodes() {
    QueryString q = new QueryString();
    assertEquals(QueryString.OK, parse(q, "a=1&b=x+y%20z&&c&d=&=e&f=a=b&a=2&"));
    assertEquals(List.of("a|1", "b|x y z", "c|", "d|", "|e", "f|a=b", "a|2"), pairs(q));
    assertEquals(QueryString.OK, parse(q, ""));
    assertEquals(0, q.count());
    assertEquals(QueryString.OK, parse(q, "%62%61=%c3%A9"));
    assertEquals(List.of("ba|\u00c3\u00a9"), pairs(q));
  }

  @Test
  void badPercent() {
    QueryString q = new QueryString();
    for (String s : new String[] {"a=%", "a=%4", "a=%4g", "%zz=1", "a=1&b=%%41"}) {
      assertEquals(QueryString.BAD_PERCENT, parse(q, s), s);
    }
  }

  @Test
  void tooMany() {
    QueryString q = new QueryString();
    assertEquals(QueryString.OK, parse(q, "a&".repeat(64)));
    assertEquals(64, q.count());
    assertEquals(QueryString.TOO_MANY, parse(q, "a&".repeat(65)));
  }

  @Test
  void path() {
    byte[] dst = new byte[32];
    byte[] src = "/b/vote%2egif+x".getBytes(StandardCharsets.US_ASCII);
    int n = QueryString.decodePath(src, 0, src.length, dst, 0);
    assertEquals("/b/vote.gif+x", new String(dst, 0, n, StandardCharsets.US_ASCII));
    src = "/b/%2".getBytes(StandardCharsets.US_ASCII);
    assertEquals(-1, QueryString.decodePath(src, 0, src.length, dst, 0));
  }
}
