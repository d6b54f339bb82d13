package org.activemirroring.mirror;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Filters of one configuration file share one node, which stops with the last of them. */
class SharedNodesTest {
    private final List<NodeLauncher> made = new ArrayList<>();

    private static MirrorConfig config(Path dir) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("mirror.node.id", "web-1");
        m.put("mirror.node.slot", "1");
        m.put("mirror.data.dir", dir.resolve("data").toString());
        m.put("mirror.db.url", "jdbc:postgresql://127.0.0.1:5432/site");
        m.put("mirror.db.user", "mirror");
        return MirrorConfig.of(m);
    }

    /** A launcher whose node never starts (no database here): its thread retries until closed. */
    private NodeLauncher launcher(MirrorConfig c) {
        NodeLauncher l = new NodeLauncher(c, (cfg, phase) -> {
            throw new IllegalStateException("no node in this test");
        });
        made.add(l);
        return l;
    }

    @Test
    void sameFileSharesOneNodeUntilTheLastRelease(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("mirror.properties"), "# test\n");
        Path sameFileOtherSpelling = dir.resolve("sub").resolve("..").resolve("mirror.properties");
        Files.createDirectories(dir.resolve("sub"));
        MirrorConfig c = config(dir);

        SharedNodes.Lease a = SharedNodes.acquire(c, file, "app a", this::launcher);
        SharedNodes.Lease b = SharedNodes.acquire(c, sameFileOtherSpelling, "app b", this::launcher);

        assertSame(a.launcher(), b.launcher(), "one node for one file");
        assertEquals(1, made.size(), "the second filter started nothing");
        assertEquals(2, SharedNodes.users(file));
        Thread launcherThread = threadNamed("am-launcher-web-1");
        assertEquals(NodeLauncher.class.getClassLoader(), launcherThread.getContextClassLoader(),
                "the node's threads carry the plugin's class loader");

        a.close();
        a.close(); // a second close of the same lease changes nothing
        assertEquals(1, SharedNodes.users(file), "the node runs on for the other filter");
        assertTrue(launcherThread.isAlive());

        b.close();
        assertEquals(0, SharedNodes.users(file));
        launcherThread.join(10_000);
        assertTrue(!launcherThread.isAlive(), "the last release stopped the node");

        SharedNodes.Lease again = SharedNodes.acquire(c, file, "app a", this::launcher);
        assertNotSame(a.launcher(), again.launcher(), "a filter after the last release starts a new node");
        again.close();
    }

    @Test
    void configurationOfTheWebAppIsNeverShared(@TempDir Path dir) {
        MirrorConfig c = config(dir);
        SharedNodes.Lease a = SharedNodes.acquire(c, null, "app a", this::launcher);
        SharedNodes.Lease b = SharedNodes.acquire(c, null, "app b", this::launcher);
        try {
            assertNotSame(a.launcher(), b.launcher());
        } finally {
            a.close();
            b.close();
        }
    }

    private static Thread threadNamed(String name) {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no thread " + name));
    }
}
