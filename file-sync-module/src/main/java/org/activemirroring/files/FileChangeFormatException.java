package org.activemirroring.files;

/**
 * A file-change payload cannot be taken: corrupt, truncated, written by an incompatible version,
 * or naming something a folder must never hold (see {@link FolderPaths}). Nothing of it is applied.
 */
public final class FileChangeFormatException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final boolean unsafePath;

    public FileChangeFormatException(String message) {
        this(message, false);
    }

    /** @param unsafePath the change names a path no folder may hold (rather than being unreadable) */
    public FileChangeFormatException(String message, boolean unsafePath) {
        super(message);
        this.unsafePath = unsafePath;
    }

    /** Whether the change was refused for its path ({@code ..}, absolute, a name too long, ...). */
    public boolean unsafePath() {
        return unsafePath;
    }

    public FileChangeFormatException(String message, Throwable cause) {
        super(message, cause);
        this.unsafePath = false;
    }
}
