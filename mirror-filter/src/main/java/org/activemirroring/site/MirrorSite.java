package org.activemirroring.site;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

import jakarta.servlet.ServletContext;

/**
 * The mirror a web application runs in, as the site sees it. The mirror filter sets it as the
 * servlet context attribute {@link #ATTRIBUTE} when its node starts, in every web application the
 * node's filter runs in; it is absent in an application without the filter.
 */
public interface MirrorSite {
    /** The servlet context attribute that holds this mirror's {@code MirrorSite}. */
    String ATTRIBUTE = "org.activemirroring.site.MirrorSite";

    /** The mirror this site runs in, or empty when the application runs without the plugin. */
    static Optional<MirrorSite> of(ServletContext context) {
        Object site = context.getAttribute(ATTRIBUTE);
        return site instanceof MirrorSite s ? Optional.of(s) : Optional.empty();
    }

    /** This mirror's {@code mirror.node.id}. */
    String mirrorId();

    /**
     * Opens a file of a replicated folder for reading. A file whose version is known but has not
     * arrived here yet (its database row came first) is fetched from a peer that has it, waiting at
     * most {@code maxWait}.
     *
     * @param folder  a folder name of {@code mirror.folders}
     * @param path    the file's path in the folder, with {@code /} between its parts
     * @return the local file, complete and verified
     * @throws FileNotFoundException when no mirror knows the file or it did not arrive in time
     * @throws IllegalArgumentException for an unknown folder or an unsafe path
     */
    Path openFile(String folder, String path, Duration maxWait) throws IOException, InterruptedException;

    /**
     * Tells {@code listener} of every write of this mirror's site that lost under the conflict
     * rule: first of those not yet acknowledged (also from before a restart), then of each new
     * one as it is decided. Delivery is at least once, in conflict-log order; a write counts as
     * handled once the listener returned without throwing, so a listener must tolerate being told
     * of the same write again after a crash. A listener that throws is told again later.
     *
     * @return closing it stops the listener (the site's {@code contextDestroyed})
     */
    AutoCloseable onLostWrite(LostWriteListener listener);
}
