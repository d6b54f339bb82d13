package org.activemirroring.apply;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.activemirroring.change.ChangeSet;
import org.activemirroring.change.RowChange;
import org.activemirroring.db.Dialect;
import org.activemirroring.db.RowJson;

/**
 * How a group of delivered ChangeSets is applied in one transaction: runs of ChangeSets that touch
 * disjoint rows go together (one locking version read, one version write per table, batched row
 * statements), in delivery order; a ChangeSet holding a schema change or a truncate, or too large
 * for a run, goes alone in its place; a ChangeSet touching a row of the run so far starts a new run,
 * so that its rows are decided after the earlier write.
 */
final class ApplyRuns {
    /**
     * One step of the plan.
     *
     * @param sets the ChangeSets, in order (one if alone)
     * @param keys per ChangeSet, the key text of each row; null when the ChangeSet goes alone
     */
    record Step(List<ChangeSet> sets, List<String[]> keys) {
        boolean alone() {
            return keys == null;
        }
    }

    private ApplyRuns() {
    }

    /**
     * Whether fitting a run's ChangeSet to the tables here ({@code fitted}, from {@code rows})
     * moved a row to a table's name now: runs are planned by the names rows carry, so two
     * ChangeSets of a run may then write one row, under a table's old name and its new one.
     */
    static boolean namesChanged(List<RowChange> rows, List<RowChange> fitted) {
        if (rows == fitted) {
            return false;
        }
        for (int i = 0; i < rows.size(); i++) {
            if (!rows.get(i).table().equals(fitted.get(i).table())) {
                return true;
            }
        }
        return false;
    }

    /** The steps for {@code pending}, at most {@code maxRows} rows per run; {@code dialect} tells schema changes. */
    static List<Step> plan(List<ChangeSet> pending, int maxRows, Dialect dialect) {
        List<Step> steps = new ArrayList<>();
        List<ChangeSet> run = new ArrayList<>();
        List<String[]> runKeys = new ArrayList<>();
        Set<String> runRows = new HashSet<>();
        int runSize = 0;
        for (ChangeSet cs : pending) {
            String[] keys = cs.rows().size() > maxRows ? null : new String[cs.rows().size()];
            List<String> ids = new ArrayList<>(keys == null ? 0 : keys.length);
            boolean overlaps = false;
            for (int i = 0; keys != null && i < keys.length; i++) {
                RowChange row = cs.rows().get(i);
                if (dialect.isSchemaChange(row) || row.op() == RowChange.Op.TRUNCATE) {
                    keys = null; // a schema change or truncate: its ChangeSet goes alone, in its order
                    break;
                }
                keys[i] = RowJson.keyText(row.key());
                String id = row.table() + '\0' + keys[i];
                ids.add(id);
                overlaps |= runRows.contains(id);
            }
            if (keys == null || overlaps || runSize + keys.length > maxRows) {
                if (!run.isEmpty()) {
                    steps.add(new Step(run, runKeys));
                    run = new ArrayList<>();
                    runKeys = new ArrayList<>();
                }
                runRows.clear();
                runSize = 0;
            }
            if (keys == null) {
                steps.add(new Step(List.of(cs), null));
                continue;
            }
            run.add(cs);
            runKeys.add(keys);
            runRows.addAll(ids);
            runSize += keys.length;
        }
        if (!run.isEmpty()) {
            steps.add(new Step(run, runKeys));
        }
        return steps;
    }
}
