package org.activemirroring.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The parsing of rsync's output only: running rsync is checked by the benchmark itself. */
class RsyncReferenceTest {

    @Test
    void rsyncStatsTotalsAreParsedWithoutThousandsSeparators() {
        String stats = "Number of files: 1,234 (reg: 1,200, dir: 34)\n"
                + "Total bytes sent: 21,003,456\n"
                + "Total bytes received: 1,234\n";
        assertEquals(21_003_456L, RsyncReference.bytesSent(stats));
        assertEquals(1_234L, RsyncReference.bytesReceived(stats));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> RsyncReference.bytesSent("rsync: oops"));
        assertTrue(e.getMessage().contains("apt-get install -y rsync"), e.getMessage());
    }
}
