package org.activemirroring.join;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.sql.Connection;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.activemirroring.capture.Fixtures;
import org.activemirroring.capture.TypeRoundTripIT;
import org.activemirroring.postgres.PostgresBulkCopy;
import org.activemirroring.postgres.PostgresDialect;
import org.activemirroring.postgres.PostgresRowStash;
import org.activemirroring.postgres.PostgresSchemaCopy;
import org.activemirroring.testsupport.PgServer;
import org.activemirroring.testsupport.PostgresServers;
import org.junit.jupiter.api.Test;

/**
 * A joining mirror copies every column type capture carries exactly: {@link JoinSource} serves
 * the donor's snapshot, {@link JoinSink} creates the schema (extensions, composite and enum types,
 * domains, a generated tsvector column) in an empty database and loads the rows, then every
 * column is compared with the donor's, as text and by its type's equality. Once with COPY's
 * binary format where {@link org.activemirroring.postgres.PostgresBulkCopy#columnTypes} allows it
 * (built-in types only), once all in text. Donor and joiners are databases of one server.
 */
class JoinCopyTypesIT {

    /** The tables of {@link TypeRoundTripIT#EXOTIC_SQL}, with their rows and whether binary COPY may carry them. */
    private static final Map<String, Integer> ROWS = new LinkedHashMap<>();
    private static final Map<String, Boolean> BINARY = new LinkedHashMap<>();

    static {
        ROWS.put("public.exotic_builtin", 4);
        ROWS.put("public.exotic_user", 4);
        ROWS.put("public.bit_keyed", 4);
        ROWS.put("public.article", 2);
        BINARY.put("public.exotic_builtin", true);
        BINARY.put("public.exotic_user", false); // composites, extension types, domains (oids), tsquery
        BINARY.put("public.bit_keyed", true);
        BINARY.put("public.article", true); // the generated columns are not copied
    }

    @Test
    void aJoinCopiesEveryCarriedTypeExactlyInTextAndInBinaryWhereSafe() throws Exception {
        try (PostgresServers servers = PostgresServers.start("jointypes", 1)) {
            PgServer donor = servers.get(0);
            PostgresDialect dialect = new PostgresDialect();
            try (Connection c = donor.connect()) {
                Fixtures.exec(c, TypeRoundTripIT.EXOTIC_SQL);
                c.setAutoCommit(false);
                Fixtures.exec(c, TypeRoundTripIT.EXOTIC_ROWS.toArray(String[]::new));
                c.commit();
                c.setAutoCommit(true);
                dialect.createBookkeeping(c);
            }
            try (JoinSource source = new JoinSource(Fixtures.config(donor), dialect,
                    new PostgresSchemaCopy(), new PostgresBulkCopy(), "donor", () -> 0L,
                    () -> new JoinWire.Hello("donor", "complete", true))) {
                for (boolean binaryAllowed : List.of(true, false)) {
                    PgServer joiner = newDatabase(donor, binaryAllowed ? "joined_binary" : "joined_text");
                    JoinWire.Begin begin = JoinWire.parse(source.reply("joiner",
                            JoinWire.json(JoinWire.Request.begin())), JoinWire.Begin.class);
                    Map<String, Boolean> offered = new LinkedHashMap<>();
                    for (JoinWire.TableInfo t : begin.tables()) {
                        offered.put(t.name(), t.binary());
                    }
                    assertEquals(BINARY, offered, "which tables the donor offers in binary");
                    Set<String> askedBinary = ConcurrentHashMap.newKeySet();
                    List<String> progress = new java.util.concurrent.CopyOnWriteArrayList<>();
                    JoinSink sink = new JoinSink(Fixtures.config(joiner), dialect,
                            new PostgresSchemaCopy(), new PostgresBulkCopy(), new PostgresRowStash(), "joiner");
                    sink.state(); // creates its bookkeeping
                    sink.markLoading();
                    sink.load(r -> {
                        JoinWire.Request sent = r;
                        if ("rows".equals(r.op()) && r.wantsBinary()) {
                            askedBinary.add(r.table());
                            if (!binaryAllowed) {
                                sent = JoinWire.Request.rows(r.session(), r.table(), r.fromPage(), r.toPage(), false);
                            }
                        }
                        return source.reply("joiner", JoinWire.json(sent));
                    }, begin, progress::add);
                    source.reply("joiner", JoinWire.json(JoinWire.Request.end(begin.session())));
                    assertEquals(Set.of("public.exotic_builtin", "public.bit_keyed", "public.article"), askedBinary,
                            "the joiner asks binary rows exactly where the donor offers them");
                    assertEquals(binaryAllowed, progress.stream().anyMatch(m -> m.contains("public.exotic_builtin, pages")
                            && m.contains("(binary)")), "exotic_builtin loaded in binary: " + progress);
                    assertEquals(false, progress.stream().anyMatch(m -> m.contains("public.exotic_user")
                            && m.contains("(binary)")), "exotic_user loaded as text: " + progress);

                    try (Connection d = donor.connect(); Connection j = joiner.connect()) {
                        for (Map.Entry<String, Integer> t : ROWS.entrySet()) {
                            TypeRoundTripIT.assertSameColumns(d, j, t.getKey(), t.getValue());
                        }
                        TypeRoundTripIT.assertEqualValues(d, j, "public.exotic_builtin",
                                TypeRoundTripIT.EXOTIC_EQUALITY_COLUMNS);
                        TypeRoundTripIT.assertEqualValues(d, j, "public.exotic_user",
                                TypeRoundTripIT.EXOTIC_EQUALITY_COLUMNS);
                    }
                }
            }
        }
    }

    /** A fresh, empty database on the donor's server (gone with the server). */
    private static PgServer newDatabase(PgServer donor, String label) throws Exception {
        String name = donor.database() + "_" + label;
        try (Connection c = donor.connect(); Statement st = c.createStatement()) {
            st.execute("CREATE DATABASE " + PostgresDialect.quote(name));
        }
        return new PgServer(donor.name() + "-" + label, donor.host(), donor.port(), name, donor.user(), donor.password());
    }
}
