package org.activemirroring.files.sync;

import java.util.Map;
import java.util.TreeMap;

/** Comparing and merging version vectors (mirror id to counter; a missing mirror counts 0). */
public final class VersionVectors {

    /** How two versions of one file relate. */
    public enum Order {
        /** The same version. */
        EQUAL,
        /** The first is older: the second has seen it. */
        BEFORE,
        /** The first is newer: it has seen the second. */
        AFTER,
        /** Neither has seen the other: concurrent edits. */
        CONCURRENT
    }

    private VersionVectors() {
    }

    /** How {@code a} relates to {@code b}. */
    public static Order compare(Map<String, Long> a, Map<String, Long> b) {
        boolean aAhead = false;
        boolean bAhead = false;
        for (Map.Entry<String, Long> e : a.entrySet()) {
            long other = b.getOrDefault(e.getKey(), 0L);
            if (e.getValue() > other) {
                aAhead = true;
            } else if (e.getValue() < other) {
                bAhead = true;
            }
        }
        for (Map.Entry<String, Long> e : b.entrySet()) {
            if (!a.containsKey(e.getKey()) && e.getValue() > 0) {
                bAhead = true;
            }
        }
        if (aAhead && bAhead) {
            return Order.CONCURRENT;
        }
        return aAhead ? Order.AFTER : bAhead ? Order.BEFORE : Order.EQUAL;
    }

    /** The element-wise maximum: a version that has seen both. */
    public static Map<String, Long> merge(Map<String, Long> a, Map<String, Long> b) {
        Map<String, Long> m = new TreeMap<>(a);
        b.forEach((k, v) -> m.merge(k, v, Math::max));
        return m;
    }

    /** Whether {@code a} has seen everything {@code b} has (equal or newer). */
    public static boolean covers(Map<String, Long> a, Map<String, Long> b) {
        Order o = compare(a, b);
        return o == Order.EQUAL || o == Order.AFTER;
    }
}
