package io.logtail.binlog;

import com.code_intelligence.jazzer.junit.FuzzTest;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Fuzzes the record decoder: any bytes must decode to a valid record or throw {@link BinlogCorruptException},
 * never anything else (no IndexOutOfBounds, NegativeArraySize, OutOfMemory, IllegalArgument...).
 *
 * <p>Without {@code JAZZER_FUZZ=1} Jazzer runs only the seed corpus in
 * {@code src/test/resources/io/logtail/binlog/BinlogCodecFuzzTestInputs/<method>/} as regression tests (that is
 * what {@code mvn verify} does). To fuzz: {@code JAZZER_FUZZ=1 mvn -pl binlog test -Dtest=BinlogCodecFuzzTest}.
 */
class BinlogCodecFuzzTest {

    /** Raw bytes: almost every input stops at the CRC check, which is the point of it. */
    @FuzzTest(maxDuration = "60s")
    void decode(byte[] data) {
        BinlogRecord r;
        try {
            r = BinlogCodec.decode(data);
        } catch (BinlogCorruptException e) {
            return;
        }
        assertEquals(r, BinlogCodec.decode(BinlogCodec.encode(r)));
    }

    /** The payload gets a correct CRC appended, so the fuzzer reaches the field parser behind the CRC check. */
    @FuzzTest(maxDuration = "60s")
    void decodeWithValidCrc(byte[] payload) {
        byte[] data = Arrays.copyOf(payload, payload.length + 4);
        int crc = BinlogCodec.crc32c(payload, 0, payload.length);
        for (int i = 0; i < 4; i++) {
            data[payload.length + i] = (byte) (crc >>> (8 * i));
        }
        BinlogRecord r;
        try {
            r = BinlogCodec.decode(data);
        } catch (BinlogCorruptException e) {
            return;
        }
        assertEquals(r, BinlogCodec.decode(BinlogCodec.encode(r)));
    }
}
