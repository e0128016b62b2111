package io.logtail.tail;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class FingerprintTest {
  private static long xx(String s) {
    byte[] b = s.getBytes(StandardCharsets.US_ASCII);
    return Fingerprint.xxHash64(b, 0, b.length);
  }

  @Test
  void matchesPublishedXxHash64Vectors() {
    assertEquals(0xEF46DB3751D8E999L, xx(""));
    assertEquals(0xD24EC4F1A98C6E5BL, xx("a"));
    assertEquals(0x44BC2CF5AD770999L, xx("abc"));
    // 39 bytes: goes through the 32-byte stripe loop and every tail step
    assertEquals(0xFBCEA83C8A378BF1L, xx("Nobody inspects the spammish repetition"));
  }

  @Test
  void hashesASliceIndependentlyOfItsPosition() {
    byte[] b = "xxNobody inspects the spammish repetitionyy".getBytes(StandardCharsets.US_ASCII);
    assertEquals(0xFBCEA83C8A378BF1L, Fingerprint.xxHash64(b, 2, b.length - 4));
  }

  @Test
  void identifyingLengthIsTheFirstLineOrTheCap() {
    byte[] b = new byte[5000];
    b[10] = '\n';
    assertEquals(11, Fingerprint.identifyingLength(b, 20));
    assertEquals(-1, Fingerprint.identifyingLength(b, 10)); // no \n yet, under the cap: wait
    byte[] c = new byte[5000];
    assertEquals(-1, Fingerprint.identifyingLength(c, 4095));
    assertEquals(Source.FINGERPRINT_MAX_BYTES, Fingerprint.identifyingLength(c, 4096));
    c[4096] = '\n'; // beyond the cap: the first 4096 bytes identify it
    assertEquals(Source.FINGERPRINT_MAX_BYTES, Fingerprint.identifyingLength(c, 5000));
  }
}
