package org.activemirroring.files.transfer;

import java.util.List;

/**
 * Some blocks of a wanted file are held neither locally nor by any reachable peer (or every peer
 * that held them sent bad bytes). Retriable: the partial temp file is kept, and a later
 * {@link FileAssembler#prepare} of the same content resumes with the blocks it already has.
 */
public final class BlocksUnavailableException extends Exception {
    private static final long serialVersionUID = 1L;

    private final String path;
    private final int missingBlocks;

    public BlocksUnavailableException(String path, int missingBlocks, int totalBlocks, long missingBytes,
                                      List<String> peersAsked) {
        super("File '" + path + "': " + missingBlocks + " of " + totalBlocks + " blocks (" + missingBytes
                + " bytes) are held by no reachable mirror (asked: "
                + (peersAsked.isEmpty() ? "none" : String.join(", ", peersAsked))
                + "); the partial file is kept, retry when a mirror holding this version is reachable");
        this.path = path;
        this.missingBlocks = missingBlocks;
    }

    /** The wanted file's relative path. */
    public String path() {
        return path;
    }

    /** How many distinct blocks are still missing. */
    public int missingBlocks() {
        return missingBlocks;
    }
}
