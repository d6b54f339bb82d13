package org.activemirroring.db;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.activemirroring.change.RowChange;

/**
 * What became, on this mirror, of columns a row change names that the local table lacks: renamed
 * (to the name the column has now) or dropped. A row written on another mirror before it applied
 * a rename or drop made here still names the old column when it arrives after that change ran
 * here; {@link #fit} writes its value under the new name, or leaves it out, instead of failing.
 *
 * <p>Only what the database's own history of this table tells goes in: a column unknown for any
 * other reason (added on another mirror, its schema change not here yet) is not in it, so the row
 * still fails and waits for that change.
 *
 * @param renamed former name to the name the same column has now (a chain a, b, c maps a to c)
 * @param dropped former names of columns dropped here
 */
public record FormerColumns(Map<String, String> renamed, Set<String> dropped) {

    /** Nothing known: every row stays as it is. */
    public static final FormerColumns NONE = new FormerColumns(Map.of(), Set.of());

    public FormerColumns {
        renamed = Map.copyOf(renamed);
        dropped = Set.copyOf(dropped);
    }

    /**
     * The columns {@code row} names that {@code table} lacks (or cannot write: generated), in
     * the row's order; empty for the common case of a row that fits.
     */
    public static Set<String> unknownColumns(TableShape table, RowChange row) {
        // Runs for every applied row: no allocation unless a column is unknown.
        Set<String> out = unknown(table, row.key().keySet(), null);
        if (row.after() != null) {
            out = unknown(table, row.after().keySet(), out);
        }
        if (row.before() != null) {
            out = unknown(table, row.before().keySet(), out);
        }
        out = unknown(table, row.unchanged(), out);
        return out == null ? Set.of() : out;
    }

    private static Set<String> unknown(TableShape table, Iterable<String> columns, Set<String> into) {
        for (String col : columns) {
            if (!table.columns().containsKey(col)) {
                into = into == null ? new LinkedHashSet<>() : into;
                into.add(col);
            }
        }
        return into;
    }

    /**
     * The row with each former column under its new name, each dropped one left out; the row
     * itself when nothing applies. A column is mapped only where the result is sound: the new
     * name is a writable column of {@code table} that the row does not carry already, and a
     * dropped column is not part of the row's key (the table's identity changed then: that stays
     * an error). Whatever is not mapped stays, and the row fails as before.
     */
    public RowChange fit(TableShape table, RowChange row) {
        if (renamed.isEmpty() && dropped.isEmpty()) {
            return row;
        }
        Map<String, String> rename = new LinkedHashMap<>();
        Set<String> drop = new LinkedHashSet<>();
        for (String col : unknownColumns(table, row)) {
            String now = renamed.get(col);
            if (now != null && table.columns().containsKey(now) && !carries(row, now)) {
                rename.put(col, now);
            } else if (now == null && dropped.contains(col) && !row.key().containsKey(col)) {
                drop.add(col);
            }
        }
        if (rename.isEmpty() && drop.isEmpty()) {
            return row;
        }
        List<String> unchanged = new ArrayList<>();
        for (String col : row.unchanged()) {
            if (!drop.contains(col)) {
                unchanged.add(rename.getOrDefault(col, col));
            }
        }
        return new RowChange(row.table(), row.op(), map(row.key(), rename, drop), map(row.after(), rename, drop),
                map(row.before(), rename, drop), unchanged, row.prev());
    }

    private static boolean carries(RowChange row, String col) {
        for (Map<String, String> image : images(row)) {
            if (image.containsKey(col)) {
                return true;
            }
        }
        return row.unchanged().contains(col);
    }

    private static List<Map<String, String>> images(RowChange row) {
        List<Map<String, String>> out = new ArrayList<>(3);
        out.add(row.key());
        if (row.after() != null) {
            out.add(row.after());
        }
        if (row.before() != null) {
            out.add(row.before());
        }
        return out;
    }

    /** The image with its columns renamed and dropped, in the same order; null stays null. */
    private static Map<String, String> map(Map<String, String> image, Map<String, String> rename, Set<String> drop) {
        if (image == null) {
            return null;
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : image.entrySet()) {
            if (!drop.contains(e.getKey())) {
                out.put(rename.getOrDefault(e.getKey(), e.getKey()), e.getValue());
            }
        }
        return out;
    }

    @Override
    public String toString() {
        return "renamed " + renamed + ", dropped " + dropped;
    }

    /** Whether nothing is known: {@link #fit} leaves every row as it is. */
    public boolean isEmpty() {
        return renamed.isEmpty() && dropped.isEmpty();
    }
}
