package org.activemirroring.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.activemirroring.postgres.PostgresDialect;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.junit.jupiter.api.Test;

class EchoPolicyTest {

    private final EchoPolicy policy = new EchoPolicy("activemirroring_apply");

    private static final Schema WITH_ORIGIN = SchemaBuilder.struct()
            .field("txId", Schema.OPTIONAL_INT64_SCHEMA).field("origin", Schema.OPTIONAL_STRING_SCHEMA).build();
    private static final Schema WITHOUT_ORIGIN = SchemaBuilder.struct()
            .field("txId", Schema.OPTIONAL_INT64_SCHEMA).build();

    @Test
    void onlyTheAppliersOriginIsAnEcho() {
        assertTrue(policy.isEcho("activemirroring_apply"));
        assertTrue(policy.isEcho("activemirroring_apply_repair"), "capture's repairs are echoes too");
        assertFalse(policy.isEcho("activemirroring_applyx"));
        assertFalse(policy.isEcho((String) null), "a local write has no origin");
        assertFalse(policy.isEcho("pg_16384"), "native logical replication into this database is not ours");
        assertFalse(policy.isEcho("ACTIVEMIRRORING_APPLY"));
    }

    @Test
    void readsTheOriginFromDebeziumsSourceBlock() {
        assertTrue(policy.isEcho(new Struct(WITH_ORIGIN).put("txId", 7L).put("origin", "activemirroring_apply"), "origin"));
        assertFalse(policy.isEcho(new Struct(WITH_ORIGIN).put("txId", 7L), "origin"));
        assertFalse(policy.isEcho(new Struct(WITHOUT_ORIGIN).put("txId", 7L), "origin"), "no origin field: never an echo");
        assertFalse(policy.isEcho((Struct) null, "origin"));
    }

    @Test
    void matchesTheDialectsApplier() {
        assertEquals(PostgresDialect.APPLY_ORIGIN, EchoPolicy.forDialect(new PostgresDialect()).applyOrigin());
        assertThrows(IllegalArgumentException.class, () -> new EchoPolicy(" "));
    }
}
