package org.activemirroring.mirror.dashboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

class SurvivabilityTest {
    private static final List<String> TABLES = List.of("public.items", "public.comments");

    /** A ready mirror with no folders and nothing parked. */
    private static MirrorFacts mirror(String id, long ownHead, Map<String, Long> received, Map<String, Long> applied,
                                      Map<String, Long> writeHeads, long baseline) {
        return new MirrorFacts(id, true, null, List.of("a", "b", "c"), withOwn(id, ownHead, received), applied, ownHead,
                writeHeads, baseline, TABLES, Map.of(), Map.of(), 0);
    }

    private static Map<String, Long> withOwn(String id, long ownHead, Map<String, Long> received) {
        java.util.HashMap<String, Long> m = new java.util.HashMap<>(received);
        m.put(id, ownHead);
        return m;
    }

    private static Survivability.Item item(Survivability.Result r, String name) {
        return r.items().stream().filter(i -> i.name().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void aNetworkThatHoldsEverythingEverywhereSurvivesLosingAnyMirror() {
        Map<String, Long> heads = Map.of(MirrorFacts.tableKey("public.items"), 10L);
        Survivability.Result r = Survivability.of(List.of(
                mirror("a", 10, Map.of("b", 4L, "c", 0L), Map.of("b", 4L), heads, 0),
                mirror("b", 4, Map.of("a", 10L, "c", 0L), Map.of("a", 10L), Map.of(), 0),
                mirror("c", 0, Map.of("a", 10L, "b", 4L), Map.of("a", 10L, "b", 4L), Map.of(), 0)), Set.of());
        assertEquals(List.of("a", "b", "c"), r.mirrors());
        assertEquals(List.of(), r.unreachable());
        for (Survivability.Item i : r.items()) {
            assertEquals(List.of("a", "b", "c"), i.upToDate(), i.name());
            assertEquals(Map.of("a", true, "b", true, "c", true), i.surviveLosing(), i.name());
        }
        r.losing().values().forEach(v -> assertNull(v));
    }

    @Test
    void writesOnlyTheirOriginHoldsAreLostWithIt() {
        // a wrote items at 9 and 10; b received a up to 8, c up to 8: only a holds a#9..10.
        Map<String, Long> heads = Map.of(MirrorFacts.tableKey("public.items"), 10L, MirrorFacts.tableKey("public.comments"), 5L);
        Survivability.Result r = Survivability.of(List.of(
                mirror("a", 10, Map.of(), Map.of(), heads, 0),
                mirror("b", 0, Map.of("a", 8L), Map.of("a", 8L), Map.of(), 0),
                mirror("c", 0, Map.of("a", 8L), Map.of("a", 7L), Map.of(), 0)), Set.of());
        Survivability.Item items = item(r, "public.items");
        assertEquals(List.of("a"), items.upToDate());
        assertEquals(Map.of("a", false, "b", true, "c", true), items.surviveLosing());
        // comments were last written at a#5: b and c hold them although they lag on items
        Survivability.Item comments = item(r, "public.comments");
        assertEquals(List.of("a", "b", "c"), comments.upToDate());
        assertEquals(Map.of("a", true, "b", true, "c", true), comments.surviveLosing());
        assertEquals("only a holds a#9..10", r.losing().get("a"));
        assertNull(r.losing().get("b"));
    }

    @Test
    void receivedButNotAppliedHoldsWithoutBeingUpToDate() {
        Map<String, Long> heads = Map.of(MirrorFacts.tableKey("public.items"), 10L);
        Survivability.Result r = Survivability.of(List.of(
                mirror("a", 10, Map.of(), Map.of(), heads, 0),
                mirror("b", 0, Map.of("a", 10L), Map.of("a", 6L), Map.of(), 0)), Set.of());
        Survivability.Item items = item(r, "public.items");
        assertEquals(List.of("a"), items.upToDate());
        assertEquals(List.of("a", "b"), items.holding());
        assertEquals(Map.of("a", true, "b", true), items.surviveLosing());
        assertNull(r.losing().get("a"));
    }

    @Test
    void writesOlderThanTheIndexCountForEveryTable() {
        // a's index starts after #7: comments, not written since, may have been written up to #7.
        Map<String, Long> heads = Map.of(MirrorFacts.tableKey("public.items"), 9L);
        Survivability.Result r = Survivability.of(List.of(
                mirror("a", 9, Map.of(), Map.of(), heads, 7),
                mirror("b", 0, Map.of("a", 6L), Map.of("a", 6L), Map.of(), 0)), Set.of());
        assertEquals(List.of("a"), item(r, "public.comments").upToDate());
    }

    @Test
    void aMirrorThatDoesNotAnswerLeavesItsWritesToThoseWhoReceivedThem() {
        Survivability.Result r = Survivability.of(List.of(
                mirror("a", 0, Map.of("c", 20L), Map.of("c", 20L), Map.of(), 0),
                mirror("b", 0, Map.of("c", 15L), Map.of("c", 15L), Map.of(), 0)), Set.of("c"));
        assertEquals(List.of("c"), r.unreachable());
        assertEquals("only a holds c#16..20", r.losing().get("a"));
        assertNull(r.losing().get("b"));
        assertEquals(List.of("a"), item(r, "public.items").upToDate());
    }

    @Test
    void parkedChangesUnfinishedFoldersAndUnreadyMirrorsAreNotUpToDate() {
        MirrorFacts a = new MirrorFacts("a", true, null, List.of("a", "b", "c"), Map.of("a", 3L), Map.of(), 3, Map.of(),
                0, TABLES, Map.of(), Map.of("uploads", 0, "avatars", 0), 0);
        MirrorFacts b = new MirrorFacts("b", true, "degraded", List.of("a", "b", "c"), Map.of("a", 3L), Map.of("a", 3L),
                0, Map.of(), 0, TABLES, Map.of("public.items", 1), Map.of("uploads", 2, "avatars", -1), 0);
        MirrorFacts c = new MirrorFacts("c", false, "joining", List.of("a", "b", "c"), Map.of("a", 3L),
                Map.of("a", 3L), 0, Map.of(), 0, TABLES, Map.of(), Map.of("uploads", 0, "avatars", 0), 0);
        Survivability.Result r = Survivability.of(List.of(a, b, c), Set.of());
        assertEquals(List.of("a"), item(r, "public.items").upToDate());
        assertEquals(List.of("a", "b"), item(r, "public.items").holding());
        assertEquals(List.of("a", "b"), item(r, "public.comments").upToDate());
        assertEquals(List.of("a"), item(r, "uploads").upToDate());
        assertEquals(List.of("a"), item(r, "avatars").upToDate());
        assertEquals("folder", item(r, "uploads").kind());
        // c is not ready: it holds nothing, so losing b leaves a alone, and losing a still keeps b's copy
        assertEquals(Map.of("a", true, "b", true, "c", true), item(r, "public.items").surviveLosing());
        assertNull(r.losing().get("a"), "b received all of a's writes");
        assertNull(r.losing().get("c"));
    }
}
