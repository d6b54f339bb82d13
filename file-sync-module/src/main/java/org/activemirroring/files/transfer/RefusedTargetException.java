package org.activemirroring.files.transfer;

import java.io.IOException;

import org.activemirroring.files.FolderPathException;

/**
 * A wanted file's path may not be written in its folder (see
 * {@link org.activemirroring.files.FolderPaths#resolveInside}): unsafe, through a symlink, or
 * outside the folder. Permanent for that path; the cause says why.
 */
public final class RefusedTargetException extends IOException {
    private static final long serialVersionUID = 1L;

    public RefusedTargetException(FolderPathException cause) {
        super(cause.getMessage() + "; the file is not written (remove the symlink or rename the file at its origin)",
                cause);
    }

    @Override
    public synchronized FolderPathException getCause() {
        return (FolderPathException) super.getCause();
    }
}
