package org.activemirroring.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.activemirroring.change.RowChange;
import org.activemirroring.change.RowVersion;
import org.junit.jupiter.api.Test;

class FormerColumnsTest {
    /** The table here: "note" was renamed to "body" (maybe through other names), "extra" was dropped. */
    private static final TableShape TABLE = new TableShape("public", "t",
            columns("id", "bigint", "body", "text", "tier", "text"), Set.of(), List.of("id"));

    private static final FormerColumns FORMER = new FormerColumns(Map.of("note", "body", "memo", "body"),
            Set.of("extra"));

    @Test
    void aRowThatFitsIsLeftAsItIs() {
        RowChange row = upsert(columns("id", "1", "body", "x", "tier", "gold"));
        assertEquals(Set.of(), FormerColumns.unknownColumns(TABLE, row));
        assertSame(row, FORMER.fit(TABLE, row));
    }

    @Test
    void aRenamedColumnIsWrittenUnderItsNewNameInEveryImageInItsPlace() {
        RowVersion prev = new RowVersion(42, "a");
        RowChange row = new RowChange("public.t", RowChange.Op.UPDATE, columns("id", "1"),
                columns("id", "1", "note", "hello", "tier", "gold"), columns("id", "1", "note", "old", "tier", null),
                List.of(), prev);
        RowChange fitted = FORMER.fit(TABLE, row);
        assertEquals(List.of("id", "body", "tier"), List.copyOf(fitted.after().keySet()));
        assertEquals("hello", fitted.after().get("body"));
        assertEquals("old", fitted.before().get("body"));
        assertEquals(null, fitted.before().get("tier"));
        assertEquals(row.key(), fitted.key());
        assertEquals(prev, fitted.prev(), "the row's version goes with it: the conflict rule decides as before");
        assertEquals(RowChange.Op.UPDATE, fitted.op());
    }

    @Test
    void aDroppedColumnIsLeftOutAlsoFromTheUnchangedList() {
        RowChange row = new RowChange("public.t", RowChange.Op.UPDATE, columns("id", "1"),
                columns("id", "1", "extra", "e", "tier", "b"), null, List.of("extra", "memo"), null);
        RowChange fitted = FORMER.fit(TABLE, row);
        assertEquals(columns("id", "1", "tier", "b"), fitted.after());
        assertEquals(List.of("body"), fitted.unchanged(), "an unchanged value under an old name: under the new one");
    }

    @Test
    void aColumnUnknownForAnyOtherReasonStays() {
        RowChange row = upsert(columns("id", "1", "added_elsewhere", "v", "extra", "e"));
        RowChange fitted = FORMER.fit(TABLE, row);
        assertEquals(columns("id", "1", "added_elsewhere", "v"), fitted.after(), "the drop applies, the rest stays");
        assertEquals(Set.of("added_elsewhere"), FormerColumns.unknownColumns(TABLE, fitted));
    }

    @Test
    void aRenameIsNotAppliedWhereTheRowCarriesTheNewNameAlready() {
        RowChange row = upsert(columns("id", "1", "note", "a", "body", "b"));
        assertSame(row, FORMER.fit(TABLE, row), "two values for one column: nothing to decide on, it stays unknown");
    }

    @Test
    void aRenameToAColumnTheTableCannotWriteIsNotApplied() {
        FormerColumns toGenerated = new FormerColumns(Map.of("note", "computed"), Set.of());
        RowChange row = upsert(columns("id", "1", "note", "a"));
        assertSame(row, toGenerated.fit(TABLE, row));
    }

    @Test
    void aRenamedKeyColumnIsRenamedInTheKeyAndADroppedOneStays() {
        TableShape keyed = new TableShape("public", "k", columns("ident", "bigint", "v", "text"), Set.of(),
                List.of("ident"));
        FormerColumns former = new FormerColumns(Map.of("id", "ident"), Set.of("old_key"));
        RowChange delete = new RowChange("public.k", RowChange.Op.DELETE, columns("id", "7"), null, null, null);
        assertEquals(columns("ident", "7"), former.fit(keyed, delete).key());
        RowChange byDroppedKey = new RowChange("public.k", RowChange.Op.DELETE, columns("old_key", "7"), null, null,
                null);
        assertSame(byDroppedKey, former.fit(keyed, byDroppedKey), "the table's identity changed: that stays an error");
    }

    @Test
    void nothingKnownLeavesEveryRow() {
        RowChange row = upsert(columns("id", "1", "note", "a"));
        assertSame(row, FormerColumns.NONE.fit(TABLE, row));
        assertEquals(Set.of("note"), FormerColumns.unknownColumns(TABLE, row));
    }

    private static RowChange upsert(Map<String, String> after) {
        return new RowChange("public.t", RowChange.Op.INSERT, columns("id", after.get("id")), after, null, null);
    }

    private static Map<String, String> columns(String... pairs) {
        Map<String, String> out = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            out.put(pairs[i], pairs[i + 1]);
        }
        return out;
    }
}
