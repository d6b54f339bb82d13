package org.activemirroring.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

class MirrorRoleSqlTest {

    @Test
    void theBlockGrantsWhatTheMirrorNeedsAndInstallsTheTriggersAsTheSuperuser() {
        List<String> sql = MirrorRoleSql.statements("mirror", "site", List.of("public", "shop"), "activemirroring");
        String all = String.join(";\n", sql);
        assertTrue(all.contains("ALTER ROLE \"mirror\" LOGIN REPLICATION;"), all);
        assertTrue(all.contains("GRANT CONNECT, CREATE ON DATABASE \"site\" TO \"mirror\""), all);
        assertTrue(all.contains("GRANT SET ON PARAMETER session_replication_role TO \"mirror\""), all);
        for (String f : MirrorRoleSql.ORIGIN_FUNCTIONS) {
            assertTrue(all.contains("'" + f + "'"), f);
        }
        assertTrue(all.contains("GRANT USAGE, CREATE ON SCHEMA \"shop\" TO \"mirror\""), all);
        // The trigger functions are made as the role (it owns them), the triggers after RESET ROLE.
        int setRole = sql.indexOf(sql.stream().filter(s -> s.endsWith("SET ROLE \"mirror\"")).findFirst().orElseThrow());
        int reset = sql.indexOf("RESET ROLE");
        assertTrue(setRole < reset, all);
        assertTrue(sql.subList(setRole, reset).stream().anyMatch(s -> s.contains("FUNCTION mirror.capture_ddl()")), all);
        assertEquals(DdlReplication.TRIGGERS, sql.get(sql.size() - 1));
    }

    @Test
    void theScriptStopsAtTheFirstErrorAndRunsInOneTransaction() {
        String script = MirrorRoleSql.script("mirror", "site", List.of("public"), "activemirroring");
        assertTrue(script.contains("\\set ON_ERROR_STOP on\nBEGIN;\n"), script);
        assertTrue(script.endsWith("COMMIT;\n"), script);
    }

    @Test
    void namesThatCannotBeRolesOrSchemasAreRefusedWithWhatToDo() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MirrorRoleSql.statements("", "site", List.of("public"), "activemirroring"));
        assertTrue(e.getMessage().contains("role"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> MirrorRoleSql.statements("mirror", "site", List.of("mirror"), "activemirroring"));
        assertTrue(e.getMessage().contains("mirror.db.schemas"), e.getMessage());
    }

    @Test
    void theRefusalListsWhatIsMissingThenTheStatementsToRun() {
        String text = PrivilegeCheck.refusal("mirror", "jdbc:postgresql://h/site", List.of(
                new PrivilegeCheck.Missing("the REPLICATION attribute", "ALTER ROLE \"mirror\" REPLICATION"),
                new PrivilegeCheck.Missing("SET on parameter session_replication_role",
                        "GRANT SET ON PARAMETER session_replication_role TO \"mirror\"")));
        assertTrue(text.contains("role mirror is not a superuser"), text);
        assertTrue(text.contains("the REPLICATION attribute; SET on parameter session_replication_role."), text);
        assertTrue(text.contains("ALTER ROLE \"mirror\" REPLICATION; GRANT SET ON PARAMETER session_replication_role"
                + " TO \"mirror\"; or run the whole block"), text);
    }
}
