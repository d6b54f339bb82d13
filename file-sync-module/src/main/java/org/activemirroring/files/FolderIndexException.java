package org.activemirroring.files;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A folder index file that cannot be read: corrupt, truncated, or written by a newer version.
 * Permanent for that file; the message names the file, the line and what to do.
 */
public final class FolderIndexException extends IOException {
    private final Path file;

    public FolderIndexException(Path file, int line, String what) {
        super("Folder index " + file + " is unreadable at line " + line + ": " + what
                + ". Stop the mirror and move the file away; the next scan rebuilds it from the folder"
                + " (every file is read once more, and local changes made while the mirror was down"
                + " are then treated as new versions).");
        this.file = file;
    }

    /** The unreadable file. */
    public Path file() {
        return file;
    }
}
