package org.activemirroring.files.transfer;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Where a block's bytes may be read on this mirror. A place may be stale (the file changed or
 * went away since it was indexed), so whoever reads it checks the bytes' SHA-256 and length.
 *
 * @param file   absolute path of the file holding the block; never null
 * @param offset where the block starts in that file, {@code >= 0}
 * @param length how many bytes it holds, {@code >= 0}
 */
public record BlockPlace(Path file, long offset, int length) {

    public BlockPlace {
        Objects.requireNonNull(file, "file");
        if (offset < 0 || length < 0) {
            throw new IllegalArgumentException("Invalid block place " + file + " at " + offset + " (" + length
                    + " bytes): offset and length are >= 0");
        }
    }
}
