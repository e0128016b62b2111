package io.logtail.event;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The word-at-a-time voter hex decoder against a reference, for every byte value at every position. */
class Hex32Test {
  @Test
  void everyByteAtEveryPosition() {
    Random r = new Random(1);
    byte[] out = new byte[32];
    String alphabet = "0123456789abcdefABCDEF";
    for (int pos = 0; pos < 64; pos++) {
      for (int v = 0; v < 256; v++) {
        byte[] in = new byte[70];
        for (int i = 0; i < 64; i++) {
          in[3 + i] = (byte) alphabet.charAt(r.nextInt(alphabet.length()));
        }
        in[3 + pos] = (byte) v;
        boolean expected = v < 128 && Character.digit((char) v, 16) >= 0;
        assertEquals(expected, BeaconDecoder.hex32(in, 3, 64, out), "pos " + pos + " byte " + v);
        if (expected) {
          String hex = new String(in, 3, 64, StandardCharsets.US_ASCII).toLowerCase();
          assertArrayEquals(HexFormat.of().parseHex(hex), out);
        }
      }
    }
  }
}
