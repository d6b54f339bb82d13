package org.activemirroring.capture;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

/** TEMPORARY placeholder until the real script reader lands. */
public record PostgresSchemaScript(List<String> beforeData, List<String> afterData) {
    public static PostgresSchemaScript read(Connection donor, List<String> tables) throws SQLException {
        return new PostgresSchemaScript(List.of(), List.of());
    }

    public static void run(Connection target, List<String> statements) throws SQLException {
        for (String s : statements) {
            try (java.sql.Statement st = target.createStatement()) {
                st.execute(s);
            }
        }
    }
}
