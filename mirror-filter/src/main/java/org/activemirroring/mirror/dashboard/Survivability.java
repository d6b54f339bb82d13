package org.activemirroring.mirror.dashboard;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * For each table and folder: which mirrors hold it up to date, and whether the site would keep
 * every write of it if it lost each mirror now. Computed from the {@link MirrorFacts} of the
 * mirrors that answered; a mirror that did not answer counts as holding nothing.
 *
 * <p>A write of origin O touched table T last at O's seq {@code n} (O's {@link WriteIndex}; for an
 * origin that did not answer, every write of it any mirror received counts). A ready mirror M
 * <em>holds</em> T when it has received O's writes up to {@code n} for every other origin O (they
 * are in its journal, applied from there); it holds T <em>up to date</em> when it has also
 * applied them and nothing of T is parked there. For a folder, up to date also needs every
 * version made elsewhere written to its disk. Losing mirror X keeps T when another mirror holds
 * it, and keeps the site's writes when, for every origin, some mirror other than X holds all of
 * that origin's writes anyone knows of.
 */
public final class Survivability {

    /**
     * One table or folder.
     *
     * @param kind          {@code table} or {@code folder}
     * @param name          {@code schema.name} or the folder's name
     * @param upToDate      mirrors holding it up to date, sorted
     * @param holding       mirrors holding every write of it (applied or about to be), sorted
     * @param surviveLosing per answering mirror: whether another mirror holds it
     */
    public record Item(String kind, String name, List<String> upToDate, List<String> holding,
                       Map<String, Boolean> surviveLosing) {
    }

    /**
     * @param mirrors     mirrors that answered, sorted
     * @param unreachable mirrors known (as members or as origins of writes) that did not answer
     * @param items       tables, then folders, each sorted by name
     * @param losing      per answering mirror: null if the site keeps every write without it, else
     *                    which writes only it holds
     */
    public record Result(List<String> mirrors, List<String> unreachable, List<Item> items,
                         Map<String, String> losing) {
    }

    private Survivability() {
    }

    /** Computes the survivability of the network from the mirrors' facts. */
    public static Result of(List<MirrorFacts> answered, Set<String> unreachable) {
        Map<String, MirrorFacts> byId = new TreeMap<>();
        for (MirrorFacts f : answered) {
            byId.put(f.nodeId(), f);
        }
        Set<String> missing = new TreeSet<>(unreachable);
        missing.removeAll(byId.keySet());
        Set<String> origins = new TreeSet<>(byId.keySet());
        Set<String> tables = new TreeSet<>();
        Set<String> folders = new TreeSet<>();
        for (MirrorFacts f : byId.values()) {
            origins.addAll(f.received().keySet());
            origins.addAll(f.applied().keySet());
            tables.addAll(f.tables());
            folders.addAll(f.folders().keySet());
            for (String m : f.members()) {
                if (!byId.containsKey(m)) {
                    missing.add(m);
                }
            }
        }
        for (String o : origins) {
            if (!byId.containsKey(o)) {
                missing.add(o);
            }
        }
        Map<String, Long> known = knownHeads(byId, origins);

        List<Item> items = new ArrayList<>();
        for (String t : tables) {
            items.add(item("table", t, MirrorFacts.tableKey(t), byId, origins, known));
        }
        for (String f : folders) {
            items.add(item("folder", f, MirrorFacts.folderKey(f), byId, origins, known));
        }
        Map<String, String> losing = new LinkedHashMap<>();
        for (String x : byId.keySet()) {
            losing.put(x, onlyHeldBy(x, byId, origins, known));
        }
        return new Result(List.copyOf(byId.keySet()), List.copyOf(missing), items, losing);
    }

    /** Per origin, the highest seq of its writes any answering mirror holds (its own head if it answered). */
    private static Map<String, Long> knownHeads(Map<String, MirrorFacts> byId, Set<String> origins) {
        Map<String, Long> known = new TreeMap<>();
        for (String o : origins) {
            long k = 0;
            for (MirrorFacts f : byId.values()) {
                k = Math.max(k, f.nodeId().equals(o) ? f.ownHead() : f.received().getOrDefault(o, 0L));
            }
            known.put(o, k);
        }
        return known;
    }

    /** The highest seq of origin {@code o}'s writes that may have touched {@code key}. */
    private static long needed(String o, String key, Map<String, MirrorFacts> byId, Map<String, Long> known) {
        MirrorFacts own = byId.get(o);
        return own != null ? Math.min(own.lastOwnWrite(key), known.get(o)) : known.get(o);
    }

    private static Item item(String kind, String name, String key, Map<String, MirrorFacts> byId, Set<String> origins,
                             Map<String, Long> known) {
        List<String> upToDate = new ArrayList<>();
        List<String> holding = new ArrayList<>();
        for (MirrorFacts m : byId.values()) {
            if (!m.ready()) {
                continue;
            }
            boolean holds = true;
            boolean applied = true;
            for (String o : origins) {
                if (o.equals(m.nodeId())) {
                    continue;
                }
                long need = needed(o, key, byId, known);
                holds &= Math.max(m.received().getOrDefault(o, 0L), m.applied().getOrDefault(o, 0L)) >= need;
                applied &= m.applied().getOrDefault(o, 0L) >= need;
            }
            if (!holds) {
                continue;
            }
            holding.add(m.nodeId());
            boolean clean = kind.equals("table")
                    ? m.parked().getOrDefault(name, 0) == 0 && m.parked().getOrDefault("*", 0) == 0
                    : m.folders().getOrDefault(name, -1) == 0;
            if (applied && clean) {
                upToDate.add(m.nodeId());
            }
        }
        Map<String, Boolean> survive = new LinkedHashMap<>();
        for (String x : byId.keySet()) {
            survive.put(x, holding.stream().anyMatch(h -> !h.equals(x)));
        }
        return new Item(kind, name, List.copyOf(upToDate), List.copyOf(holding), survive);
    }

    /** Null if every origin's known writes are held by a ready mirror other than {@code x}, else which are not. */
    private static String onlyHeldBy(String x, Map<String, MirrorFacts> byId, Set<String> origins,
                                     Map<String, Long> known) {
        List<String> lost = new ArrayList<>();
        for (String o : origins) {
            long best = 0;
            for (MirrorFacts m : byId.values()) {
                if (m.nodeId().equals(x) || !m.ready()) {
                    continue;
                }
                long held = m.nodeId().equals(o) ? m.ownHead()
                        : Math.max(m.received().getOrDefault(o, 0L), m.applied().getOrDefault(o, 0L));
                best = Math.max(best, held);
            }
            long k = known.get(o);
            if (best < k) {
                lost.add(o + "#" + (best + 1) + (k > best + 1 ? ".." + k : ""));
            }
        }
        return lost.isEmpty() ? null : "only " + x + " holds " + String.join(", ", lost);
    }
}
