package org.activemirroring.mirror;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One mirror node per configuration file, however many {@link MirrorFilter} instances use it.
 *
 * <p>With the plugin's jars in Tomcat's {@code lib/} and the filter declared in the global
 * {@code conf/web.xml}, every web application gets a MirrorFilter instance of the same class, so
 * this registry (a static of that class) is shared JVM-wide: the first filter of a configuration
 * starts its node, later ones use that node, and the node stops when the last of them is
 * destroyed. Filters are keyed by the real path of their {@code mirror.properties}, so two
 * spellings of one file (a symlink, {@code ..}) still share one node.
 *
 * <p>With the jars in a web application's {@code WEB-INF/lib}, each application loads its own copy
 * of this class and so has its own registry: two applications that each carry the plugin and name
 * the same configuration would start two nodes on the same ports and database; the second fails
 * to bind and keeps retrying. Give the filter to one application only in that layout. A
 * configuration read from {@code /WEB-INF/mirror.properties} belongs to its application and is
 * never shared.
 *
 * <p>The node's threads are started with the plugin's own class loader as their context class
 * loader, not the class loader of whichever application happened to start it: a node shared
 * between applications outlives the first one's undeploy, and Tomcat would otherwise report its
 * threads as leaked by that application.
 */
final class SharedNodes {
    private static final Logger LOG = LoggerFactory.getLogger(SharedNodes.class);
    /** Guarded by the class: acquire and release are rare (deploy, undeploy). */
    private static final Map<String, Entry> NODES = new HashMap<>();

    private SharedNodes() {
    }

    /** A filter's use of a node; closing it releases the node, and the last release closes it. */
    static final class Lease implements AutoCloseable {
        private final String key;
        private final Entry entry;
        private final String user;
        private boolean closed;

        private Lease(String key, Entry entry, String user) {
            this.key = key;
            this.entry = entry;
            this.user = user;
        }

        NodeLauncher launcher() {
            return entry.launcher;
        }

        @Override
        public void close() {
            NodeLauncher toClose;
            synchronized (SharedNodes.class) {
                if (closed) {
                    return;
                }
                closed = true;
                entry.users--;
                if (entry.users > 0) {
                    logAs(entry.launcher, () -> LOG.info("ActiveMirroring: {} stopped using mirror '{}' ({}); {} other filter(s) still use it",
                            user, entry.launcher.config().nodeId(), key, entry.users));
                    return;
                }
                if (key != null) {
                    NODES.remove(key, entry);
                }
                toClose = entry.launcher;
            }
            // Outside the lock: closing waits for the node's threads, and a deploy elsewhere must not wait on it.
            logAs(toClose, () -> LOG.info("ActiveMirroring: stopping mirror '{}' ({}): its last filter ({}) is destroyed",
                    toClose.config().nodeId(), key != null ? key : "configuration of " + user, user));
            toClose.close();
        }
    }

    private static final class Entry {
        final NodeLauncher launcher;
        int users;

        Entry(NodeLauncher launcher) {
            this.launcher = launcher;
        }
    }

    /**
     * The node for {@code configFile}, started through {@code newLauncher} if no filter uses it yet.
     *
     * @param configFile the configuration file, or null for one read from the web application
     *                   (never shared)
     * @param user       who asks, for the log ("'/site' on localhost")
     */
    static Lease acquire(MirrorConfig config, Path configFile, String user,
                         Function<MirrorConfig, NodeLauncher> newLauncher) {
        String key = configFile == null ? null : realPath(configFile);
        synchronized (SharedNodes.class) {
            Entry entry = key == null ? null : NODES.get(key);
            if (entry != null) {
                entry.users++;
                Entry shared = entry;
                logAs(entry.launcher, () -> LOG.info("ActiveMirroring: {} uses the running mirror '{}' of {} ({} filters share it: one node per"
                        + " configuration and JVM)", user, shared.launcher.config().nodeId(), key, shared.users));
                return new Lease(key, entry, user);
            }
            entry = new Entry(newLauncher.apply(config));
            entry.users = 1;
            if (key != null) {
                NODES.put(key, entry);
            }
            entry.launcher.launch();
            logAs(entry.launcher, () -> LOG.info("ActiveMirroring: {} starts mirror '{}' of {}", user, config.nodeId(),
                    key != null ? key : "its own configuration"));
            return new Lease(key, entry, user);
        }
    }

    /** Logs with the launcher's mirror in the logging context (deploys run on the container's threads). */
    private static void logAs(NodeLauncher launcher, Runnable log) {
        try (org.activemirroring.logging.LogContext.Scope ignored =
                     org.activemirroring.logging.LogContext.scoped(launcher.config().nodeId())) {
            log.run();
        }
    }

    /** How many filters use the node of {@code configFile} (0 if none runs); for tests. */
    static int users(Path configFile) {
        synchronized (SharedNodes.class) {
            Entry entry = NODES.get(realPath(configFile));
            return entry == null ? 0 : entry.users;
        }
    }

    /** The launcher of the node of {@code configFile}, or null if none runs; for tests. */
    static NodeLauncher launcher(Path configFile) {
        synchronized (SharedNodes.class) {
            Entry entry = NODES.get(realPath(configFile));
            return entry == null ? null : entry.launcher;
        }
    }

    private static String realPath(Path file) {
        try {
            return file.toRealPath().toString();
        } catch (IOException e) {
            // Loading the file succeeded just before; if it vanished since, its absolute path still names it.
            return file.toAbsolutePath().normalize().toString();
        }
    }
}
