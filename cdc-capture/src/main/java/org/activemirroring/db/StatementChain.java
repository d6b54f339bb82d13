package org.activemirroring.db;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

import org.activemirroring.db.Dialect;
import org.activemirroring.db.RowStatement;

/**
 * Statements sent to PostgreSQL as one multi-statement, so that all of them cost one round trip:
 * the driver sends each with its parameters and one sync at the end, and the server stops at the
 * first error. Ending the chain with {@link #commit()} also folds the commit into that round trip;
 * the driver then sees the transaction ended and its own {@code commit()} sends nothing.
 *
 * <p>The last statements of capture's stamping transaction and of the applier's transaction go
 * this way: every round trip there is latency on the path from a commit on one mirror to the row
 * on the others.
 */
public final class StatementChain {

    /** Binds one statement's parameters, the first of them at {@code first}. */
    public interface Binder {
        void bind(PreparedStatement ps, int first) throws SQLException;
    }

    private final List<String> statements = new ArrayList<>();
    private final List<Binder> binders = new ArrayList<>();
    private final List<Integer> firsts = new ArrayList<>();
    private int params;
    private boolean committed;

    /**
     * Appends a statement.
     *
     * @param statement  SQL with {@code ?} placeholders, no trailing semicolon
     * @param paramCount how many placeholders it has
     */
    public StatementChain add(String statement, int paramCount, Binder binder) {
        if (committed) {
            throw new IllegalStateException("nothing can follow the commit of a statement chain");
        }
        statements.add(statement);
        binders.add(binder);
        firsts.add(params + 1);
        params += paramCount;
        return this;
    }

    /** Appends a row statement of a {@link Dialect}. */
    public StatementChain add(RowStatement st) {
        return add(st.sql(), st.params().length, st::bind);
    }

    /** Ends the chain with a commit of the open transaction. */
    public StatementChain commit() {
        add("COMMIT", 0, (ps, first) -> { });
        committed = true;
        return this;
    }

    /** Sends every statement in one round trip; the first failing one throws, and the rest do not run. */
    public void execute(Connection c) throws SQLException {
        if (binders.isEmpty()) {
            return;
        }
        try (PreparedStatement ps = c.prepareStatement(SqlTexts.join(statements))) {
            for (int i = 0; i < binders.size(); i++) {
                binders.get(i).bind(ps, firsts.get(i));
            }
            ps.execute();
        }
    }
}
