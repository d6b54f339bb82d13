package org.activemirroring.files.transfer;

import java.nio.file.Path;
import java.util.List;

/**
 * Finds where blocks may be read on this mirror, by the SHA-256 of their bytes. Implementations
 * are thread-safe: the {@link BlockServer} asks from transport threads while files are assembled.
 */
@FunctionalInterface
public interface LocalBlocks {

    /**
     * Candidate places of the block whose SHA-256 is {@code sha256Hex} (64 lower-case hex
     * digits), best first; possibly empty, never null. Places may be stale: callers verify.
     */
    List<BlockPlace> places(String sha256Hex);

    /**
     * How {@code file} looked when its blocks were recorded, or null when unknown. A file that
     * still looks so may be served to peers without hashing its blocks again (peers check every
     * block they receive); this mirror's own copies always check.
     */
    default FileStamp stamp(Path file) {
        return null;
    }
}
