package org.activemirroring.files.sync;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

import org.activemirroring.files.FolderEntry;
import org.activemirroring.files.FolderPaths;
import org.activemirroring.files.transfer.BlockMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a losing version that this mirror holds on disk under its conflict copy's name
 * ({@link ConflictRule#conflictPath}): the file is renamed in its directory, and the next scan
 * replicates the copy as a new file. The same loser gets the same name on every mirror that holds
 * it, so copies made on several mirrors are one file; a different loser that would get the same
 * name is told apart by its content. The block map follows the rename at once: the winning version
 * is often assembled right after it, mostly from the loser's blocks, and must find them under the
 * copy's name, not wait for the scan that indexes the copy. Called under {@link FolderState}'s lock.
 */
final class ConflictCopies {
    private static final Logger LOG = LoggerFactory.getLogger(ConflictCopies.class);

    private final String folder;
    private final Path root;
    private final String self;
    private final BlockMap blocks;
    private long made;

    ConflictCopies(String folder, Path root, String self, BlockMap blocks) {
        this.folder = folder;
        this.root = root;
        this.self = self;
        this.blocks = blocks;
    }

    /** Conflict copies made (or found made) by this mirror since start. */
    long made() {
        return made;
    }

    /**
     * Renames the file at {@code loser.path()} to its conflict copy. If the file is not the
     * loser's (an edit not scanned yet) it is kept all the same, named as this mirror's edit.
     *
     * @return the directory whose entries changed (to be forced before the index is saved), or
     *         null when nothing was renamed (no file there any more, or it could not be)
     */
    Path keep(FolderEntry loser) {
        try {
            Path file = FolderPaths.resolveInside(root, loser.path());
            FolderState.Stat disk = FolderState.stat(file);
            if (disk == null) {
                return null; // already renamed (a repeated offer) or deleted
            }
            boolean isLoser = FolderState.matches(loser, disk);
            String sha = isLoser && loser.sha256Hex() != null ? loser.sha256Hex() : ContentDigest.sha256(file);
            long mtime = isLoser ? loser.mtimeMs() : disk.mtimeMs();
            String maker = isLoser ? loser.modifiedBy() : self;
            String copy = ConflictRule.conflictPath(loser.path(), mtime, maker);
            Path target = FolderPaths.resolveInside(root, copy);
            if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                if (sha.equals(ContentDigest.sha256(target))) {
                    // This very version is kept under that name already.
                    return dropKept(file, loser, isLoser ? at(loser, copy) : null);
                }
                // Another version of the same mirror and second: named apart by its content.
                copy = ConflictRule.conflictPath(loser.path(), mtime, maker + "-" + sha.substring(0, 8));
                target = FolderPaths.resolveInside(root, copy);
                if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                    return dropKept(file, loser, null); // the same content under its content-named copy
                }
            }
            // The loser's blocks are named at the copy before the rename and forgotten at the old path
            // after it, so that a version assembled meanwhile finds them at one or the other. The file
            // is not the loser's: nothing of it is known to name at the copy (its scan does that).
            FolderEntry kept = isLoser ? at(loser, copy) : null;
            if (kept != null) {
                blocks.add(root, kept);
            }
            try {
                Files.move(file, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                if (kept != null) {
                    blocks.remove(root, kept);
                }
                throw e;
            }
            blocks.remove(root, loser);
            made++;
            LOG.info("Folder '{}': concurrent edits of {}; this mirror's losing version is kept as {}", folder,
                    FolderPaths.printable(loser.path()), FolderPaths.printable(copy));
            return file.getParent();
        } catch (IOException e) {
            LOG.warn("Folder '{}': cannot keep the losing version of {} as a conflict copy ({}); the winning version"
                    + " waits until it can", folder, FolderPaths.printable(loser.path()), e.toString());
            return null;
        }
    }

    /**
     * Deletes the loser's file, whose content a copy holds already ({@code kept}: that copy, when
     * its blocks are known to be the loser's; else null).
     */
    private Path dropKept(Path file, FolderEntry loser, FolderEntry kept) throws IOException {
        if (kept != null) {
            blocks.add(root, kept);
        }
        Files.delete(file);
        blocks.remove(root, loser);
        made++;
        return file.getParent();
    }

    /** {@code e}'s content and blocks at {@code path}. */
    private static FolderEntry at(FolderEntry e, String path) {
        return new FolderEntry(path, e.size(), e.mtimeMs(), e.mode(), null, e.sha256Hex(), e.blocks(), e.versions(),
                false, e.modifiedBy());
    }
}
