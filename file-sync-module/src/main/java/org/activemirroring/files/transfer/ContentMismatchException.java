package org.activemirroring.files.transfer;

import java.io.IOException;

/**
 * A wanted file's description does not add up: its block list does not cover its size, or the
 * assembled blocks do not hash to its SHA-256. Permanent for that description: fetching again
 * gives the same bytes. Nothing is written at the target and the temp file is deleted.
 */
public final class ContentMismatchException extends IOException {
    private static final long serialVersionUID = 1L;

    private final String path;

    public ContentMismatchException(String path, String reason) {
        super("File '" + path + "' cannot be built: " + reason
                + "; the file's entry is inconsistent, it is skipped until its origin publishes a new version");
        this.path = path;
    }

    /** The wanted file's relative path. */
    public String path() {
        return path;
    }
}
