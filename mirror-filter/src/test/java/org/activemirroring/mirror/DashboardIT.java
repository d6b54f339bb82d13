package org.activemirroring.mirror;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.activemirroring.mirror.dashboard.DashboardEndpoint;
import org.activemirroring.mirror.dashboard.LagHistory;
import org.activemirroring.testsupport.Await;
import org.activemirroring.testsupport.MirrorSettings;
import org.activemirroring.testsupport.PgServer;
import org.activemirroring.testsupport.PostgresServers;
import org.junit.jupiter.api.Test;

/**
 * The dashboard's view of three real mirrors (embedded PostgreSQL, JGroups on 127.0.0.1, one
 * replicated folder): every mirror answers its facts over the transport, survivability follows
 * each table on its own (a mirror that holds back applying is not up to date on the table just
 * written, but still on the others, and still holds the writes), a folder with a file counts, and
 * a mirror that stops is named as not answering while its writes stay held by the others.
 */
class DashboardIT {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @Test
    void survivabilityPerTableAndFolderAcrossThreeMirrors() throws Exception {
        try (PostgresServers pgs = PostgresServers.start("dash", 3)) {
            List<PgServer> servers = pgs.servers();
            for (PgServer s : servers) {
                SiteSchema.create(s);
            }
            Path work = PostgresServers.workDir().resolve("dash-" + System.nanoTime());
            List<Map<String, String>> configs = new ArrayList<>();
            int i = 0;
            for (Map<String, String> m : MirrorSettings.forServers("dash", servers)) {
                Path folder = Files.createDirectories(work.resolve("uploads-" + (++i)));
                m = TestMirrors.with(m, "mirror.folders", "uploads");
                configs.add(TestMirrors.with(m, "mirror.folder.uploads.path", folder.toString()));
            }
            List<MirrorNode> nodes = new ArrayList<>(TestMirrors.startAll(configs));
            try {
                MirrorNode a = nodes.get(0);
                MirrorNode c = nodes.get(2);
                ReplicationChecks.awaitMembers(nodes, 3, WAIT);
                DashboardEndpoint dashA = new DashboardEndpoint(a.nodeId(), () -> a, () -> "running", new LagHistory());

                sql(servers.get(0), "INSERT INTO customers (id, owner, name, balance, created) VALUES (1, 'o', 'n', 1, now())");
                sql(servers.get(1), "INSERT INTO documents (id, owner, title, version) VALUES (1, 'o', 't', 1)");
                Files.writeString(work.resolve("uploads-3").resolve("note.txt"), "made on the third mirror");
                JsonNode d = await(dashA, v -> allUpToDate(v, 3), "every table and folder up to date on all three");
                for (String m : List.of("dash-1", "dash-2", "dash-3")) {
                    JsonNode facts = d.path("mirrors").path(m).path("facts");
                    assertTrue(facts.path("ready").asBoolean(), m + ": " + d.path("mirrors").path(m));
                    assertTrue(d.path("mirrors").path(m).path("status").has("origins"), m + " sends its status");
                }
                assertEquals(List.of("public.customers", "public.documents", "public.fences", "public.orders", "uploads"),
                        names(d), d.toString());
                assertTrue(d.path("survivability").path("losing").path("dash-1").isNull(), d.toString());
                assertEquals(List.of(), texts(d.path("survivability").path("unreachable")));

                // Mirror 3 holds back applying: it receives mirror 1's new customer but does not apply it.
                c.holdApply(true);
                sql(servers.get(0), "INSERT INTO customers (id, owner, name, balance, created) VALUES (2, 'o', 'n', 1, now())");
                d = await(dashA, v -> item(v, "public.customers").path("upToDate").size() == 2
                        && item(v, "public.customers").path("holding").size() == 3, "customers held, not applied, on 3");
                assertEquals(List.of("dash-1", "dash-2"), texts(item(d, "public.customers").path("upToDate")));
                assertEquals(List.of("dash-1", "dash-2", "dash-3"), texts(item(d, "public.documents").path("upToDate")),
                        "documents were not written since: mirror 3 is up to date on them");
                assertTrue(item(d, "public.customers").path("surviveLosing").path("dash-1").asBoolean(), d.toString());
                c.holdApply(false);
                await(dashA, v -> allUpToDate(v, 3), "mirror 3 up to date again");

                // Mirror 2 stops: it no longer answers, and what it wrote is held by the other two.
                nodes.get(1).close();
                nodes.set(1, null);
                d = await(dashA, v -> texts(v.path("survivability").path("unreachable")).contains("dash-2")
                        && v.path("survivability").path("mirrors").size() == 2, "mirror 2 gone from the view");
                assertEquals(List.of("dash-1", "dash-3"), texts(item(d, "public.documents").path("holding")));
                assertTrue(d.path("survivability").path("losing").path("dash-1").isNull(), d.toString());
                assertFalse(dashA.data().path("lag").isMissingNode());
            } finally {
                TestMirrors.closeAll(nodes);
            }
        }
    }

    private static JsonNode await(DashboardEndpoint dash, Predicate<JsonNode> condition, String what) {
        JsonNode[] last = new JsonNode[1];
        Await.until(WAIT, () -> {
            ObjectNode d = dash.data();
            last[0] = d;
            return d.path("survivability").isObject() && condition.test(d);
        }, () -> what + ": " + last[0]);
        return last[0];
    }

    private static boolean allUpToDate(JsonNode d, int mirrors) {
        JsonNode items = d.path("survivability").path("items");
        if (items.size() < 5) {
            return false;
        }
        for (JsonNode item : items) {
            if (item.path("upToDate").size() != mirrors) {
                return false;
            }
        }
        return true;
    }

    private static JsonNode item(JsonNode d, String name) {
        for (JsonNode item : d.path("survivability").path("items")) {
            if (item.path("name").asText().equals(name)) {
                return item;
            }
        }
        throw new AssertionError("no item " + name + " in " + d);
    }

    private static List<String> names(JsonNode d) {
        List<String> out = new ArrayList<>();
        d.path("survivability").path("items").forEach(item -> out.add(item.path("name").asText()));
        return out;
    }

    private static List<String> texts(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    private static void sql(PgServer server, String statement) throws Exception {
        try (Connection c = server.connect(); Statement st = c.createStatement()) {
            st.executeUpdate(statement);
        }
    }
}
