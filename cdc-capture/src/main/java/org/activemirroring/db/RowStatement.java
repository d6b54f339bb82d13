package org.activemirroring.db;

import java.sql.PreparedStatement;
import java.sql.SQLException;

/**
 * One row change rendered by a {@link Dialect}: SQL text and its parameters, each either a
 * {@code String} (bound as text, the SQL casts it) or a {@code byte[]} (bound as binary), null
 * for SQL NULL. Consecutive statements with the same SQL are executed as one JDBC batch.
 *
 * @param binary which parameters are bound as bytes
 */
public record RowStatement(String sql, Object[] params, boolean[] binary) {

    public void bind(PreparedStatement ps) throws SQLException {
        bind(ps, 1);
    }

    /** Binds the parameters to placeholders {@code first}, {@code first + 1}, ... */
    public void bind(PreparedStatement ps, int first) throws SQLException {
        for (int i = 0; i < params.length; i++) {
            if (binary[i]) {
                ps.setBytes(first + i, (byte[]) params[i]);
            } else {
                ps.setString(first + i, (String) params[i]);
            }
        }
    }
}
