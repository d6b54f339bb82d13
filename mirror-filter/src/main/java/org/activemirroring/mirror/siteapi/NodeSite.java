package org.activemirroring.mirror.siteapi;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import jakarta.servlet.ServletContext;

import org.activemirroring.files.FolderConfig;
import org.activemirroring.files.FolderPaths;
import org.activemirroring.mirror.MirrorConfig;
import org.activemirroring.mirror.MirrorNode;
import org.activemirroring.postgres.PostgresDialect;
import org.activemirroring.site.LostWriteListener;
import org.activemirroring.site.MirrorSite;
import org.activemirroring.versions.LostWriteLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link MirrorSite} of one web application, backed by the mirror node that runs for it (the
 * node may be replaced while the application runs: a mirror that copies its data again starts a
 * new one). One daemon thread, {@code am-site-<node id>}, puts this object into the servlet context
 * ({@link MirrorSite#ATTRIBUTE}) once the node runs and tells the site's lost-write listeners
 * (polling the conflict log every {@link #POLL}, at once when a listener is added); {@link #close}
 * removes the attribute and stops the thread.
 */
public final class NodeSite implements MirrorSite, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NodeSite.class);
    /** How often the conflict log is read for new lost writes while a listener is registered. */
    public static final Duration POLL = Duration.ofMillis(500);

    private final String mirrorId;
    private final FolderConfig folders;
    private final Supplier<MirrorNode> node;
    private final ServletContext context;
    private final ScheduledExecutorService thread;
    private final LostWriteDelivery delivery;
    private volatile boolean published;
    private boolean closed;

    private NodeSite(MirrorConfig config, Supplier<MirrorNode> node, ServletContext context, String scope) {
        String mirrorId = config.nodeId();
        this.mirrorId = mirrorId;
        this.folders = config.folders();
        this.node = node;
        this.context = context;
        this.thread = Executors.newSingleThreadScheduledExecutor(
                org.activemirroring.logging.LogContext.threads(config.nodeId(), "am-site-" + mirrorId, false));
        ConflictLogSource source = new ConflictLogSource(new LostWriteLog(config.capture(), new PostgresDialect(),
                mirrorId, scope));
        this.delivery = new LostWriteDelivery(mirrorId, () -> node.get() == null ? null : source, Clock.systemUTC(),
                this::wake);
    }

    /**
     * Starts the site API of one application: it appears as the context attribute once
     * {@code node} answers a running node.
     *
     * @param config  the node's configuration (its id, site database, folders)
     * @param node    the running node, or null while it starts
     * @param context where to publish it; null for none (a node without a web container)
     */
    public static NodeSite start(MirrorConfig config, Supplier<MirrorNode> node, ServletContext context) {
        return start(config, node, context, "");
    }

    /**
     * As {@link #start(MirrorConfig, Supplier, ServletContext)}, acknowledging lost writes in
     * {@code scope}: each web application sharing one node passes its own (its context path), so
     * that each hears of every lost write.
     */
    public static NodeSite start(MirrorConfig config, Supplier<MirrorNode> node, ServletContext context,
                                 String scope) {
        NodeSite site = new NodeSite(config, node, context, scope);
        site.thread.scheduleWithFixedDelay(site::round, 0, POLL.toMillis(), TimeUnit.MILLISECONDS);
        return site;
    }

    private void wake() {
        try {
            thread.execute(this::round);
        } catch (RejectedExecutionException e) {
            // closed: nothing to tell any more
        }
    }

    private void round() {
        try {
            if (!published && node.get() != null) {
                publish();
            }
            delivery.runOnce();
        } catch (RuntimeException e) {
            LOG.warn("A round of the site API failed, trying again in {} ms: {}",
                    POLL.toMillis(), e.toString(), e);
        }
    }

    /** Under the lock, so that a close meanwhile never leaves the attribute behind. */
    private synchronized void publish() {
        if (closed) {
            return;
        }
        if (context != null) {
            context.setAttribute(ATTRIBUTE, this);
        }
        published = true;
        LOG.info("The site API ({}) is in the servlet context", MirrorSite.class.getName());
    }

    /** Whether this object is in the servlet context (the node ran at least once). */
    public boolean published() {
        return published;
    }

    @Override
    public String mirrorId() {
        return mirrorId;
    }

    @Override
    public Path openFile(String folder, String path, Duration maxWait) throws IOException, InterruptedException {
        if (folder == null || folders.folder(folder) == null) {
            throw new IllegalArgumentException("No replicated folder '" + folder + "' on mirror '" + mirrorId
                    + "': the folders are " + folders.folders().stream().map(FolderConfig.Folder::name).toList()
                    + " (mirror.folders)");
        }
        String unsafe = path == null ? "no path given" : FolderPaths.refusal(path);
        if (unsafe != null) {
            throw new IllegalArgumentException("Refused path '" + (path == null ? null : FolderPaths.printable(path))
                    + "' in folder '" + folder + "': " + unsafe + "; give a relative path with / between its parts");
        }
        if (maxWait == null || maxWait.isNegative()) {
            throw new IllegalArgumentException("maxWait must be zero or more, was " + maxWait);
        }
        MirrorNode n = node.get();
        if (n == null) {
            throw new IOException("Mirror '" + mirrorId + "' is not running right now (it starts again, or copies its"
                    + " data from a peer): cannot open " + folder + "/" + path + "; try again in a few seconds");
        }
        return n.openFile(folder, path, maxWait);
    }

    @Override
    public AutoCloseable onLostWrite(LostWriteListener listener) {
        return delivery.add(listener);
    }

    /** Removes the context attribute and stops the thread, letting a listener call in progress end (bounded). */
    @Override
    public void close() {
        synchronized (this) {
            closed = true;
            if (context != null && context.getAttribute(ATTRIBUTE) == this) {
                context.removeAttribute(ATTRIBUTE);
            }
        }
        thread.shutdown();
        try {
            if (!thread.awaitTermination(LostWriteDelivery.CLOSE_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
                LOG.warn("A lost-write listener still runs {} s after the site API closed; interrupting"
                        + " it", LostWriteDelivery.CLOSE_WAIT.toSeconds());
                thread.shutdownNow();
                thread.awaitTermination(LostWriteDelivery.CLOSE_WAIT.toMillis(), TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            thread.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
