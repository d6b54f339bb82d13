package org.activemirroring.files;

import java.util.Objects;

/**
 * One file change of a replicated folder as it travels between mirrors on the journal: the folder's
 * name (the same on every mirror) and the file's new index entry (content hash, blocks, version
 * vector, or a tombstone). The content itself does not travel here: a receiver fetches the blocks
 * it lacks by their hashes.
 *
 * @param folder the replicated folder's name ({@code mirror.folders})
 * @param entry  the file's entry; its {@code fileKey} is local and never sent
 * @param delta  null, or the entry's block list written against an earlier version's (the entry
 *               then has no blocks of its own: a receiver takes them from the delta and the base
 *               it holds, see {@link BlockListDelta})
 */
public record FileChange(String folder, FolderEntry entry, BlockListDelta delta) {

    /** Envelope payload type of an encoded file change. */
    public static final String PAYLOAD_TYPE = "filechange/1";

    public FileChange {
        Objects.requireNonNull(folder, "folder");
        Objects.requireNonNull(entry, "entry");
        if (delta != null && !entry.blocksElided()) {
            throw new IllegalArgumentException("a change with a block-list delta carries no blocks of its own: "
                    + entry.path());
        }
    }

    /** A change that carries its whole block list (or none, see {@link FolderEntry#blocksElided()}). */
    public FileChange(String folder, FolderEntry entry) {
        this(folder, entry, null);
    }
}
