package org.activemirroring.files.sync;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.activemirroring.files.BlockListDelta;
import org.activemirroring.files.FileChange;
import org.activemirroring.files.FolderConfig;
import org.activemirroring.files.FolderEntry;
import org.activemirroring.files.FolderFilter;
import org.activemirroring.files.FolderIndex;
import org.activemirroring.files.transfer.BlockMap;
import org.activemirroring.files.transfer.BlockServer;
import org.activemirroring.files.transfer.FileAssembler;
import org.activemirroring.files.transfer.PeerRequests;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A change whose block list came as a delta, received by a mirror on real folders and index files:
 * made whole from the base held here and written fetching only the new blocks; taken without a
 * list when the base is not held here, the list then asked of a peer; refused whole when it does
 * not fit its base.
 */
class BlockListDeltasTest {
    @TempDir
    Path tmp;
    Path root;
    Path peerRoot;
    FolderState state;
    BlockMap here;
    Refusals refusals;
    BlockListDeltas deltas;
    FolderSync sync;
    PeerRequests peers;
    byte[] v0;
    byte[] v1;
    /** The peer m2's version: v0 with 10 KB overwritten in the middle. */
    FolderEntry theirs;

    @BeforeEach
    void open() throws Exception {
        root = Files.createDirectories(tmp.resolve("u"));
        peerRoot = Files.createDirectories(tmp.resolve("peer"));
        here = new BlockMap();
        state = new FolderState("u", root, "me", FolderIndex.load(tmp.resolve("u.index")),
                FolderIndex.load(tmp.resolve("u.wanted")),
                org.activemirroring.files.FolderSiblings.load(tmp.resolve("u.siblings")), here);
        refusals = new Refusals();
        deltas = new BlockListDeltas(refusals);
        sync = new FolderSync(new FolderConfig.Folder("u", root, FolderFilter.ALL, 1 << 30), state, "me", null,
                Clock.systemUTC(), refusals);

        v0 = random(500_000, 1);
        v1 = v0.clone();
        System.arraycopy(random(10_000, 2), 0, v1, 250_000, 10_000);
        Files.write(peerRoot.resolve("f.bin"), v1);
        ContentDigest.Digest d = ContentDigest.of(peerRoot.resolve("f.bin"));
        theirs = new FolderEntry("f.bin", v1.length, 5000, null, null, d.sha256Hex(), d.blocks(),
                Map.of("me", 1L, "m2", 1L), false, "m2");
        BlockMap peerBlocks = new BlockMap();
        peerBlocks.add(peerRoot, theirs);
        BlockServer server = new BlockServer(peerBlocks);
        peers = new OnePeer("m2", server);
    }

    static byte[] random(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** Writes {@code data} as f.bin here and records it as this mirror's first version, as a scan does. */
    FolderEntry holdLocally(byte[] data) throws Exception {
        Path f = root.resolve("f.bin");
        Files.write(f, data);
        ContentDigest.Digest d = ContentDigest.of(f);
        FolderState.Stat s = FolderState.stat(f);
        return state.recordLocal(new FolderEntry("f.bin", s.size(), s.mtimeMs(), null, s.fileKey(), d.sha256Hex(),
                d.blocks(), Map.of(), false), "f.bin", 0);
    }

    /** m2's change of f.bin, its list written against {@code base}. */
    FileChange deltaChange(FolderEntry base) {
        return new FileChange("u", theirs.withBlocks(List.of()),
                BlockListDelta.between(base.sha256Hex(), base.blocks(), theirs.blocks()));
    }

    @Test
    void aDeltaAgainstTheVersionHeldHereIsMadeWholeAndOnlyItsNewBlocksAreFetched() throws Exception {
        FolderEntry mine = holdLocally(v0);
        FolderEntry whole = deltas.resolve(state, deltaChange(mine), "m2");
        assertEquals(theirs.blocks(), whole.blocks());
        assertEquals(new BlockListDeltas.Counts(1, 0, 0), deltas.counts());

        assertEquals(FolderState.Outcome.WANTED, state.offer(whole));
        try (FileAssembler assembler = new FileAssembler(here, peers, Duration.ofSeconds(5))) {
            assertTrue(sync.materialize(state.wanted("f.bin"), assembler));
            assertArrayEquals(v1, Files.readAllBytes(root.resolve("f.bin")));
            long notHeld = theirs.blocks().stream().filter(b -> !mine.blocks().contains(b)).mapToLong(b -> b.length()).sum();
            assertEquals(notHeld, assembler.bytesFetched(), "only the blocks around the edit");
            assertTrue(notHeld < v1.length / 2, "the edit touched a few blocks: " + notHeld);
        }
        assertEquals(theirs.blocks(), state.local("f.bin").blocks());
    }

    @Test
    void theNextDeltaAppliesToAVersionThatIsStillOnItsWay() throws Exception {
        FolderEntry mine = holdLocally(v0);
        state.offer(deltas.resolve(state, deltaChange(mine), "m2"));
        // m2 edits again before v1 is written here: its next change names v1, held here as wanted.
        byte[] v2 = v1.clone();
        System.arraycopy(random(500, 3), 0, v2, 10, 500);
        List<FolderEntry.BlockRef> v2Blocks = org.activemirroring.files.Chunker.cutBytes(v2).stream()
                .map(b -> new FolderEntry.BlockRef(b.offset(), b.length(), b.hex())).toList();
        FolderEntry next = new FolderEntry("f.bin", v2.length, 6000, null, null, "ab".repeat(32), List.of(),
                Map.of("me", 1L, "m2", 2L), false, "m2");
        FileChange change = new FileChange("u", next,
                BlockListDelta.between(theirs.sha256Hex(), theirs.blocks(), v2Blocks));
        assertEquals(v2Blocks, deltas.resolve(state, change, "m2").blocks());
        assertEquals(new BlockListDeltas.Counts(2, 0, 0), deltas.counts());
    }

    @Test
    void withoutTheBaseHereTheListIsAskedOfAPeerWhenTheFileIsWritten() throws Exception {
        byte[] other = random(500_000, 4);
        holdLocally(other); // this mirror never held v0
        Files.write(tmp.resolve("v0"), v0);
        FolderEntry base = new FolderEntry("f.bin", v0.length, 1, null, null, ContentDigest.sha256(tmp.resolve("v0")),
                org.activemirroring.files.Chunker.cutBytes(v0).stream()
                        .map(b -> new FolderEntry.BlockRef(b.offset(), b.length(), b.hex())).toList(),
                Map.of("me", 1L), false);
        FolderEntry taken = deltas.resolve(state, deltaChange(base), "m2");
        assertTrue(taken.blocksElided(), "no list: " + taken.blocks().size() + " blocks");
        assertEquals(new BlockListDeltas.Counts(0, 1, 0), deltas.counts());
        assertEquals(FolderState.Outcome.WANTED, state.offer(taken));

        try (FileAssembler assembler = new FileAssembler(here, peers, Duration.ofSeconds(5))) {
            sync.onBlocksMissing((folder, path, sha) -> null); // no peer answers yet
            assertFalse(sync.materialize(state.wanted("f.bin"), assembler), "tried again later");
            assertArrayEquals(other, Files.readAllBytes(root.resolve("f.bin")), "nothing written meanwhile");
            sync.onBlocksMissing((folder, path, sha) -> "u".equals(folder) && "f.bin".equals(path) ? theirs : null);
            assertTrue(sync.materialize(state.wanted("f.bin"), assembler));
        }
        assertArrayEquals(v1, Files.readAllBytes(root.resolve("f.bin")));
        assertEquals(theirs.blocks(), state.local("f.bin").blocks());
        assertEquals(Map.of(), refusals.counts());
    }

    @Test
    void aDeltaThatDoesNotFitItsBaseIsRefusedWholeAndCounted() throws Exception {
        FolderEntry mine = holdLocally(v0);
        FileChange good = deltaChange(mine);
        // The runs of the delta rebuild v1's 500,000 bytes; the change says the file has 7 more.
        FolderEntry lying = new FolderEntry("f.bin", v1.length + 7, 5000, null, null, theirs.sha256Hex(), List.of(),
                theirs.versions(), false, "m2");
        assertNull(deltas.resolve(state, new FileChange("u", lying, good.delta()), "m2"));
        assertEquals(new BlockListDeltas.Counts(0, 0, 1), deltas.counts());
        assertEquals(Map.of("bad-delta", 1L), refusals.counts());
        assertTrue(refusals.last().contains("m2") && refusals.last().contains("add up to"), refusals.last());
        assertEquals(0, state.wantedCount(), "nothing offered");
        assertEquals(mine, state.local("f.bin"));
    }
}
