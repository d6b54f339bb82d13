package org.activemirroring.change;

import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * One row's column values (or its key's): an immutable map in column order.
 *
 * <p>A transaction of a few hundred thousand rows holds that many of these, at capture and at
 * every receiver, so they are small: the column names are one array shared by the rows of a
 * table with the same columns ({@link Columns}), each row holds only its values. A
 * {@code LinkedHashMap} cost ~330 bytes more for a five-column row. Values may be null (SQL
 * NULL).
 */
public final class RowValues extends AbstractMap<String, String> {
    private static final int INDEX_FROM = 9;

    private final Columns columns;
    private final String[] values;

    private RowValues(Columns columns, String[] values) {
        this.columns = columns;
        this.values = values;
    }

    /** Column names in order, with a hash index for wide rows. Shared; never changed. */
    public static final class Columns {
        private final String[] names;
        private final Map<String, Integer> index;

        private Columns(String[] names) {
            this.names = names;
            Map<String, Integer> idx = new HashMap<>(names.length * 2);
            for (int i = 0; i < names.length; i++) {
                if (idx.put(names[i], i) != null) {
                    throw new IllegalArgumentException("column '" + names[i] + "' appears twice");
                }
            }
            this.index = names.length >= INDEX_FROM ? idx : null;
        }

        int indexOf(Object name) {
            if (index != null) {
                Integer i = index.get(name);
                return i == null ? -1 : i;
            }
            for (int i = 0; i < names.length; i++) {
                if (names[i].equals(name)) {
                    return i;
                }
            }
            return -1;
        }

        boolean sameAs(String[] other, int size) {
            return names.length == size && Arrays.equals(names, 0, size, other, 0, size);
        }
    }

    /**
     * Collects the values of one row after another ({@link #put}, then {@link #build}), reusing the
     * column names of the previous row with the same columns under the same name. Safe for use
     * by several threads only if each has its own builder; the shared names are thread-safe.
     */
    public static final class Builder {
        private final Map<String, Columns> seen;
        private String[] names = new String[16];
        private String[] vals = new String[16];
        private int size;

        /** A builder sharing column names with every other builder given the same map. */
        public Builder(Map<String, Columns> seen) {
            this.seen = seen;
        }

        public Builder put(String column, String value) {
            if (size == names.length) {
                names = Arrays.copyOf(names, size * 2);
                vals = Arrays.copyOf(vals, size * 2);
            }
            names[size] = column;
            vals[size] = value;
            size++;
            return this;
        }

        public boolean contains(String column) {
            for (int i = 0; i < size; i++) {
                if (names[i].equals(column)) {
                    return true;
                }
            }
            return false;
        }

        /**
         * The row so far, as a row of {@code shape} (a table: callers keep keys and images apart by map);
         * the builder is empty again afterwards.
         *
         * @throws IllegalArgumentException if a column was put twice
         */
        public RowValues build(String shape) {
            Columns c = seen.get(shape);
            if (c == null || !c.sameAs(names, size)) {
                c = new Columns(Arrays.copyOf(names, size));
                seen.put(shape, c);
            }
            RowValues row = new RowValues(c, Arrays.copyOf(vals, size));
            Arrays.fill(vals, 0, size, null);
            size = 0;
            return row;
        }
    }

    @Override
    public int size() {
        return values.length;
    }

    @Override
    public boolean containsKey(Object column) {
        return columns.indexOf(column) >= 0;
    }

    @Override
    public String get(Object column) {
        int i = columns.indexOf(column);
        return i < 0 ? null : values[i];
    }

    @Override
    public void forEach(BiConsumer<? super String, ? super String> action) {
        String[] names = columns.names;
        for (int i = 0; i < values.length; i++) {
            action.accept(names[i], values[i]);
        }
    }

    @Override
    public Set<Entry<String, String>> entrySet() {
        return new AbstractSet<>() {
            @Override
            public int size() {
                return values.length;
            }

            @Override
            public Iterator<Entry<String, String>> iterator() {
                return new Iterator<>() {
                    private int next;

                    @Override
                    public boolean hasNext() {
                        return next < values.length;
                    }

                    @Override
                    public Entry<String, String> next() {
                        if (next >= values.length) {
                            throw new NoSuchElementException();
                        }
                        int i = next++;
                        return new SimpleImmutableEntry<>(columns.names[i], values[i]);
                    }
                };
            }
        };
    }
}
