package io.logtail.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.StringReader;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BallotsParseTest {
  private static Map<String, List<String>> parse(String text) throws Exception {
    return BallotsCommand.parse(new StringReader(text), "ballots.txt");
  }

  private static BallotsCommand.ParseException bad(String text) {
    return assertThrows(BallotsCommand.ParseException.class, () -> parse(text));
  }

  @Test
  void parsesBallotsChoicesCommentsAndBlankLines() throws Exception {
    Map<String, List<String>> b = parse("""
        # city ballots
        city-0  c0 c1\tc2 c3

           city-1 yes no   # the referendum
        #city-2 a b
        """);
    assertEquals(List.of("city-0", "city-1"), List.copyOf(b.keySet()));
    assertEquals(List.of("c0", "c1", "c2", "c3"), b.get("city-0"));
    assertEquals(List.of("yes", "no"), b.get("city-1"));
  }

  @Test
  void emptyFileGivesNoBallots() throws Exception {
    assertTrue(parse("# nothing yet\n\n").isEmpty());
  }

  @Test
  void ballotWithoutChoicesGivesItsLineNumber() {
    BallotsCommand.ParseException e = bad("city-0 a b\n# comment\ncity-1\n");
    assertEquals(3, e.line());
    assertTrue(e.getMessage().startsWith("ballots.txt:3: ballot city-1 has no choices"), e.getMessage());
  }

  @Test
  void duplicateBallotNamesBothLines() {
    BallotsCommand.ParseException e = bad("city-0 a b\ncity-1 x\ncity-0 c\n");
    assertEquals(3, e.line());
    assertTrue(e.getMessage().contains("already listed on line 1"), e.getMessage());
  }

  @Test
  void duplicateChoice() {
    BallotsCommand.ParseException e = bad("\n\ncity-0 a b a\n");
    assertEquals(3, e.line());
    assertTrue(e.getMessage().contains("choice 'a' of ballot city-0 is listed twice"), e.getMessage());
  }

  @Test
  void badBallotName() {
    BallotsCommand.ParseException e = bad("city-0 a\ncity/1 a b\n");
    assertEquals(2, e.line());
    assertTrue(e.getMessage().contains("not a ballot identifier"), e.getMessage());
  }
}
