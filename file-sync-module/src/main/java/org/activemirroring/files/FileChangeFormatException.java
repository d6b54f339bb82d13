package org.activemirroring.files;

/**
 * A file-change payload cannot be taken: corrupt, truncated, written by an incompatible version,
 * or naming something a folder must never hold (see {@link FolderPaths}). Nothing of it is applied.
 */
public final class FileChangeFormatException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public FileChangeFormatException(String message) {
        super(message);
    }

    public FileChangeFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
