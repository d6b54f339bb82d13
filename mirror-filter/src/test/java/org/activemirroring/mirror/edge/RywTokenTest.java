package org.activemirroring.mirror.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.Map;

import org.junit.jupiter.api.Test;

class RywTokenTest {
    @Test
    void roundTripsAndMergesKeepingTheHigherSeq() {
        RywToken t = RywToken.parse("v1.mirror-a:10.mirror-b:7");
        assertEquals(Map.of("mirror-a", 10L, "mirror-b", 7L), t.seqs());
        assertEquals("v1.mirror-b:7.mirror-a:12", t.with("mirror-a", 12).format());
        assertEquals("v1.mirror-b:7.mirror-a:10", t.with("mirror-a", 3).format(), "never goes back");
        assertEquals("v1.x:1", RywToken.empty().with("x", 1).format());
    }

    @Test
    void keepsAtMostEightOriginsDroppingTheOldest() {
        RywToken t = RywToken.empty();
        for (int i = 1; i <= 10; i++) {
            t = t.with("m" + i, i);
        }
        assertEquals(RywToken.MAX_ORIGINS, t.seqs().size());
        assertEquals(null, t.seqs().get("m1"));
        assertEquals(10L, t.seqs().get("m10"));
        assertEquals(t, RywToken.parse(t.format()));
    }

    @Test
    void anythingElseIsNoToken() {
        for (String bad : new String[] {null, "", "v1", "v1.", "v2.a:1", "v1.a:0", "v1.a:-1", "v1.A:1", "v1.a:1.a:2",
                "v1.a:1234567890123456789", "v1.a:1;b", "v1.a:1.b:2.c:3.d:4.e:5.f:6.g:7.h:8.i:9", "v1.-a:1",
                "x".repeat(1000)}) {
            assertNull(RywToken.parse(bad), String.valueOf(bad));
        }
    }
}
