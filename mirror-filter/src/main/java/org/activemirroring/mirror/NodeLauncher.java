package org.activemirroring.mirror;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import java.util.function.Consumer;

import org.activemirroring.logging.LogContext;
import org.activemirroring.mirror.dashboard.LagHistory;
import org.activemirroring.mirror.metrics.MirrorMetrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts a mirror node on its own thread and keeps trying, with backoff, while the start fails
 * (site database restarting, a peer's address not resolvable yet). The web application deploys
 * without waiting; until the node runs, the filter answers 503 and the status page shows the last
 * failure.
 */
final class NodeLauncher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NodeLauncher.class);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);

    private final MirrorConfig config;
    private final BiFunction<MirrorConfig, Consumer<String>, MirrorNode> starter;
    private final Thread thread;
    private final CountDownLatch stop = new CountDownLatch(1);
    private volatile MirrorNode node;
    private volatile String lastFailure;
    private volatile String phase = "starting";
    private final MirrorMetrics metrics;
    private final LagHistory lagHistory = new LagHistory();

    /** @param starter starts a node, reporting what it does meanwhile (a join's progress) to the consumer */
    NodeLauncher(MirrorConfig config, BiFunction<MirrorConfig, Consumer<String>, MirrorNode> starter) {
        this.config = config;
        this.starter = starter;
        this.thread = LogContext.thread(config.nodeId(), "am-launcher-" + config.nodeId(), this::run);
        // Every thread of the node descends from this one and inherits its context class loader:
        // the plugin's, not that of the web application whose filter happened to start the node
        // (with the plugin in Tomcat's lib/, the node outlives that application's undeploy).
        this.thread.setContextClassLoader(NodeLauncher.class.getClassLoader());
        this.metrics = new MirrorMetrics(config.nodeId(), this::node);
    }

    /** Starts the node on its own thread, after logging the configuration it runs with (secrets masked). */
    void launch() {
        try (LogContext.Scope ignored = LogContext.scoped(config.nodeId())) {
            LOG.info("Starting with this configuration (secrets masked):{}", EffectiveConfig.describe(config));
        }
        thread.start();
    }

    /** This mirror's recent lag behind each other mirror, sampled while its node runs (the dashboard's chart). */
    LagHistory lagHistory() {
        return lagHistory;
    }

    /** This mirror's meters ({@code /_mirror/metrics} and JMX), for as long as the launcher lives. */
    MirrorMetrics metrics() {
        return metrics;
    }

    private void run() {
        while (stop.getCount() > 0) {
            MirrorNode started = startWithRetries();
            if (started == null) {
                return;
            }
            // Watch for a node that must start over (it lost history no peer holds: a full join).
            try {
                while (!stop.await(1, TimeUnit.SECONDS)) {
                    sampleLag(started);
                    if (started.restartRequested()) {
                        LOG.warn("This mirror restarts to copy its data again from a peer");
                        synchronized (this) {
                            node = null;
                        }
                        phase = "restarting for a full join";
                        started.close();
                        break;
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void sampleLag(MirrorNode n) {
        try {
            lagHistory.record(System.currentTimeMillis(), config.nodeId(), n.transportStats().journalHeads(),
                    n.appliedNow());
        } catch (RuntimeException e) {
            LOG.debug("Cannot sample the lag: {}", e.toString()); // a closing node; the next sample will tell
        }
    }

    /** Starts the node, retrying with backoff; null when stopped meanwhile. */
    private MirrorNode startWithRetries() {
        Duration backoff = Duration.ofMillis(500);
        while (stop.getCount() > 0) {
            try {
                MirrorNode started = starter.apply(config, p -> phase = p);
                synchronized (this) {
                    if (stop.getCount() == 0) {
                        started.close();
                        return null;
                    }
                    node = started;
                }
                lastFailure = null;
                phase = "running";
                return started;
            } catch (RuntimeException e) {
                // The first failure with its stack trace; repeats of the same failure in one line.
                if (!e.getMessage().equals(lastFailure)) {
                    LOG.error("{} Trying again in {} ms.", e.getMessage(), backoff.toMillis(), e);
                } else {
                    LOG.warn("{} Trying again in {} ms.", e.getMessage(), backoff.toMillis());
                }
                lastFailure = e.getMessage();
            }
            try {
                if (stop.await(backoff.toMillis(), TimeUnit.MILLISECONDS)) {
                    return null;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
            backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
        }
        return null;
    }

    /** The running node, or null while it is starting. */
    MirrorNode node() {
        return node;
    }

    /** What the start is doing now ("starting", a join's progress). */
    String phase() {
        return phase;
    }

    /** Why the last start attempt failed, or null. */
    String lastFailure() {
        return lastFailure;
    }

    MirrorConfig config() {
        return config;
    }

    /** Stops retrying, waits for an attempt in progress, closes the node. */
    @Override
    public void close() {
        try (LogContext.Scope ignored = LogContext.scoped(config.nodeId())) {
            stopNode();
        }
    }

    private void stopNode() {
        stop.countDown();
        thread.interrupt(); // a join waiting for a donor or a chunk gives up
        try {
            thread.join(TimeUnit.SECONDS.toMillis(60));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        MirrorNode n;
        synchronized (this) {
            n = node;
            node = null;
        }
        if (n != null) {
            n.close();
        }
        metrics.close();
    }
}
