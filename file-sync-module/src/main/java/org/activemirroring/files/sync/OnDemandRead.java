package org.activemirroring.files.sync;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.activemirroring.files.FolderEntry;
import org.activemirroring.files.FolderPaths;

/**
 * Reading a file of a replicated folder that may not be here yet (see {@link FileSync#open}): a
 * version known here but not written yet is fetched before the others; one nobody here has heard
 * of is asked from the peers first. A page whose database row arrived before its image then still
 * shows the image.
 */
final class OnDemandRead {
    private final FileSync sync;
    private final PeerQueries queries;
    private final Fetching fetching;

    OnDemandRead(FileSync sync, PeerQueries queries, Fetching fetching) {
        this.sync = sync;
        this.queries = queries;
        this.fetching = fetching;
    }

    Path open(String folder, String path, Duration maxWait) throws IOException, InterruptedException {
        FolderSync f = sync.folders().get(folder);
        if (f == null) {
            throw new FileNotFoundException("No replicated folder '" + folder + "' here (mirror.folders)");
        }
        String unsafe = FolderPaths.refusal(path);
        if (unsafe != null) {
            throw new FileNotFoundException("Refused path '" + FolderPaths.printable(path) + "': " + unsafe);
        }
        long deadline = System.nanoTime() + maxWait.toNanos();
        boolean asked = false;
        while (true) {
            FolderEntry w = f.state().wanted(path);
            FolderEntry l = f.state().local(path);
            if (w == null && l != null && !l.tombstone()) {
                Path file = FolderPaths.resolveInside(f.folder().root(), path);
                if (FolderState.stat(file) != null) {
                    return file;
                }
            }
            if (w == null && !asked) {
                asked = true;
                queries.askPeers(folder, path);
                continue;
            }
            if (w == null || w.tombstone()) {
                throw new FileNotFoundException("'" + FolderPaths.printable(path) + "' is not in folder '" + folder
                        + "' on any reachable mirror");
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new FileNotFoundException("'" + FolderPaths.printable(path) + "' of folder '" + folder
                        + "' did not arrive within " + maxWait.toMillis() + " ms; try again shortly");
            }
            fetching.prefer(folder, path);
            fetching.awaitChange(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
        }
    }

}
