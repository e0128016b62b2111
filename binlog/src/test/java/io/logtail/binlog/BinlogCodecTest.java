package io.logtail.binlog;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BinlogCodecTest {

    static List<BinlogRecord> samples() {
        return List.of(
                TestRecords.batch(1),
                BinlogRecord.batch(0, "", 0, List.of(), Counts.ZERO),
                BinlogRecord.heal(Long.MAX_VALUE, "nœud-ü-日本", Long.MAX_VALUE,
                        List.of(new Range(-1L, Long.MAX_VALUE, 0, "/var/log/ñginx/a.log.1", 0, Long.MAX_VALUE),
                                new Range(Long.MIN_VALUE, 0, Long.MAX_VALUE, "", 5, 5)),
                        new Counts(Long.MAX_VALUE, 1, 2, 3, 4, 5, 6)),
                BinlogRecord.rewind(77, "n", -5, 1000, 12),
                new BinlogRecord(RecordKind.BATCH, 3, "n", -1_000_000L, List.of(), Counts.ZERO, 0, 0));
    }

    @Test
    void roundTrip() {
        for (BinlogRecord r : samples()) {
            byte[] enc = BinlogCodec.encode(r);
            assertEquals(BinlogCodec.VERSION, enc[0], "version byte first");
            assertEquals(r, BinlogCodec.decode(enc));
        }
    }

    @Test
    void everySingleByteFlipIsDetected() {
        for (BinlogRecord r : samples()) {
            byte[] enc = BinlogCodec.encode(r);
            for (int i = 0; i < enc.length; i++) {
                for (int bit = 0; bit < 8; bit++) {
                    byte[] bad = enc.clone();
                    bad[i] ^= (byte) (1 << bit);
                    assertThrows(BinlogCorruptException.class, () -> BinlogCodec.decode(bad),
                            "flip of bit " + bit + " of byte " + i);
                }
            }
        }
    }

    @Test
    void truncationAndTrailingBytesAreDetected() {
        byte[] enc = BinlogCodec.encode(TestRecords.batch(9));
        for (int n = 0; n < enc.length; n++) {
            byte[] cut = Arrays.copyOf(enc, n);
            assertThrows(BinlogCorruptException.class, () -> BinlogCodec.decode(cut));
        }
        byte[] longer = Arrays.copyOf(enc, enc.length + 1);
        assertThrows(BinlogCorruptException.class, () -> BinlogCodec.decode(longer));
    }

    @Test
    void unknownVersionIsRefusedEvenWithAValidCrc() {
        byte[] enc = BinlogCodec.encode(TestRecords.batch(9));
        enc[0] = 2;
        int crc = BinlogCodec.crc32c(enc, 0, enc.length - 4);
        for (int i = 0; i < 4; i++) {
            enc[enc.length - 4 + i] = (byte) (crc >>> (8 * i));
        }
        BinlogCorruptException e = assertThrows(BinlogCorruptException.class, () -> BinlogCodec.decode(enc));
        assertTrue(e.getMessage().contains("version 2"), e.getMessage());
    }

    @Test
    void invalidFieldsBehindAValidCrcAreCorruptNotIllegalArgument() {
        // a range whose end is before its start, hand-made, with a correct CRC
        byte[] enc = BinlogCodec.encode(BinlogRecord.batch(1, "n", 1,
                List.of(new Range(1, 1, 1, "p", 5, 6)), Counts.ZERO));
        // layout: ver kind flags batch(1) time(1) node(len 1 + 'n') count(1) fp(8) dev ino path(len+'p') start end
        int startAt = 3 + 1 + 1 + 2 + 1 + 8 + 1 + 1 + 2;
        assertEquals(5, enc[startAt]);
        enc[startAt] = 7;
        int crc = BinlogCodec.crc32c(enc, 0, enc.length - 4);
        for (int i = 0; i < 4; i++) {
            enc[enc.length - 4 + i] = (byte) (crc >>> (8 * i));
        }
        BinlogCorruptException e = assertThrows(BinlogCorruptException.class, () -> BinlogCodec.decode(enc));
        assertTrue(e.getMessage().contains("bad range"), e.getMessage());
    }

    @Test
    void recordValidation() {
        assertThrows(IllegalArgumentException.class, () -> TestRecords.batch(-1));
        assertThrows(IllegalArgumentException.class, () -> new Range(1, 1, 1, "p", 10, 9));
        assertThrows(IllegalArgumentException.class,
                () -> new BinlogRecord(RecordKind.BATCH, 1, "n", 1, List.of(), Counts.ZERO, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new Counts(0, 0, 0, -1, 0, 0, 0));
    }
}
