package org.activemirroring.mirror;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

/** The history checker itself: it accepts valid histories and names each kind of violation. */
class HistoryCheckerTest {
    private static HistoryChecker.Write w(String mirror, String token, HistoryChecker.Op op, String prev) {
        return new HistoryChecker.Write(mirror, token, 0, op, prev, System.nanoTime());
    }

    private static HistoryChecker history(HistoryChecker.Write... writes) {
        HistoryChecker h = new HistoryChecker();
        for (HistoryChecker.Write x : writes) {
            h.committed(x);
        }
        return h;
    }

    @Test
    void supersededInSequenceFinalOrLoggedLoserIsValid() {
        HistoryChecker h = history(w("a", "a1", HistoryChecker.Op.UPDATE, "init-0"),
                w("b", "b1", HistoryChecker.Op.UPDATE, "a1"),     // a1 overwritten in sequence
                w("a", "a2", HistoryChecker.Op.UPDATE, "a1"),     // concurrent with b1, lost: logged
                w("c", null, HistoryChecker.Op.DELETE, "b1"),
                w("c", "c1", HistoryChecker.Op.INSERT, null));
        assertEquals(List.of(), h.check(Map.of(0, "c1"), 1, Set.of("a2")));
    }

    @Test
    void aConcurrentWriteNeitherFinalNorLoggedIsLostSilently() {
        HistoryChecker h = history(w("a", "a1", HistoryChecker.Op.UPDATE, "init-0"),
                w("b", "b1", HistoryChecker.Op.UPDATE, "init-0"));
        List<String> problems = h.check(Map.of(0, "b1"), 1, Set.of());
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).startsWith("LOST") && problems.get(0).contains("a1"), problems.get(0));
    }

    @Test
    void finalValuesNeverWrittenOrAlsoLoggedAsLosersAreReported() {
        HistoryChecker h = history(w("a", "a1", HistoryChecker.Op.UPDATE, "init-0"));
        assertTrue(h.check(Map.of(0, "zz"), 1, Set.of("a1")).stream().anyMatch(p -> p.startsWith("PHANTOM final")));
        assertTrue(h.check(Map.of(0, "a1"), 1, Set.of("a1")).stream().anyMatch(p -> p.startsWith("FALSE LOSER")));
        HistoryChecker read = history(w("a", "a1", HistoryChecker.Op.UPDATE, "ghost"));
        assertTrue(read.check(Map.of(0, "a1"), 1, Set.of()).stream().anyMatch(p -> p.startsWith("PHANTOM read")));
    }
}
