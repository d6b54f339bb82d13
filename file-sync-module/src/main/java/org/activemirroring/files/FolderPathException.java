package org.activemirroring.files;

/**
 * A relative path that a folder refuses (see {@link FolderPaths}): permanent, the same input
 * always fails. {@link #getMessage()} names the path and the reason.
 */
public final class FolderPathException extends java.io.IOException {
    private final String path;
    private final String reason;

    public FolderPathException(String path, String reason) {
        super("Refused path '" + FolderPaths.printable(path) + "': " + reason);
        this.path = path;
        this.reason = reason;
    }

    /** The refused path as given (may contain control characters). */
    public String path() {
        return path;
    }

    /** Why it was refused, without the path. */
    public String reason() {
        return reason;
    }
}
