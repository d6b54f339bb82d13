package org.activemirroring.files.sync;

import java.util.concurrent.atomic.AtomicLong;

import org.activemirroring.files.BlockListDelta;
import org.activemirroring.files.FileChange;
import org.activemirroring.files.FileChangeFormatException;
import org.activemirroring.files.FolderEntry;

/**
 * Turns a received change whose block list came as a {@link BlockListDelta} into the entry a
 * folder takes, before it is offered: with its whole block list when this mirror holds the base
 * (the path's wanted or local entry, or a file here with the base's content, whose list is exactly
 * the base's), else without one, so that the list is asked of a peer when the file is written, as
 * for a rename's change ({@link FolderEntry#blocksElided()}). A delta that does not fit its base
 * (runs outside it, blocks that do not add up to the file's size) is refused whole: nothing of the
 * change is offered. Thread-safe.
 */
public final class BlockListDeltas {
    /**
     * How received deltas went, since start.
     *
     * @param applied     made whole from the base held here
     * @param withoutBase taken without a list (no base here): the list was asked of a peer
     * @param refused     did not fit their base: the change was refused
     */
    public record Counts(long applied, long withoutBase, long refused) {
    }

    private final Refusals refusals;
    private final AtomicLong applied = new AtomicLong();
    private final AtomicLong withoutBase = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();

    BlockListDeltas(Refusals refusals) {
        this.refusals = refusals;
    }

    /**
     * The entry of {@code change} to offer to {@code state}'s folder: its own when it carries no
     * delta; with the list the delta makes from the base held here; without a list when no base
     * is held here; null when the delta is refused (counted, logged once per origin).
     */
    FolderEntry resolve(FolderState state, FileChange change, String origin) {
        BlockListDelta delta = change.delta();
        FolderEntry e = change.entry();
        if (delta == null) {
            return e;
        }
        FolderEntry base = base(state, delta, e.path());
        if (base == null) {
            withoutBase.incrementAndGet();
            return e; // no list: asked of a peer when the file is written
        }
        try {
            FolderEntry full = e.withBlocks(delta.apply(base.blocks(), e.size()));
            applied.incrementAndGet();
            return full;
        } catch (FileChangeFormatException x) {
            refused.incrementAndGet();
            refusals.refuse(origin, change.folder(), "bad-delta", e.path(), "its block-list delta does not fit the"
                    + " version it names as base (" + delta + "): " + x.getMessage() + "; the mirror that sent it"
                    + " cut the base otherwise or sent a corrupt change");
            return null;
        }
    }

    /** An entry here whose block list is exactly the delta's base, or null. */
    private static FolderEntry base(FolderState state, BlockListDelta delta, String path) {
        FolderEntry current = state.current(path);
        if (delta.hasBase(current)) {
            return current;
        }
        FolderEntry local = state.local(path);
        if (local != current && delta.hasBase(local)) {
            return local;
        }
        FolderEntry elsewhere = state.localWithContent(delta.baseSha256Hex(), path);
        return delta.hasBase(elsewhere) ? elsewhere : null;
    }

    Counts counts() {
        return new Counts(applied.get(), withoutBase.get(), refused.get());
    }
}
