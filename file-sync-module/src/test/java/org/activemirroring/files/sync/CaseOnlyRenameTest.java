package org.activemirroring.files.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Random;

import org.activemirroring.files.FolderConfig;
import org.activemirroring.files.FolderEntry;
import org.activemirroring.files.FolderFilter;
import org.activemirroring.files.FolderIndex;
import org.activemirroring.files.transfer.BlockMap;
import org.activemirroring.files.transfer.BlockServer;
import org.activemirroring.files.transfer.FileAssembler;
import org.activemirroring.files.transfer.PeerRequests;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A case-only rename made on a file system that tells case apart, arriving at one that does not
 * (played here by telling the folder so): the new name waits, reported once, until the old name's
 * delete is done, then is written; nothing loops and nothing is lost.
 */
class CaseOnlyRenameTest {
    @TempDir
    Path tmp;

    @Test
    void theNewNameWaitsForTheOldNamesDelete() throws Exception {
        Path root = Files.createDirectories(tmp.resolve("u"));
        Path peerRoot = Files.createDirectories(tmp.resolve("peer"));
        byte[] content = new byte[50_000];
        new Random(3).nextBytes(content);
        Files.write(root.resolve("A.JPG"), content);
        Files.write(peerRoot.resolve("a.jpg"), content);

        BlockMap here = new BlockMap();
        FolderState state = new FolderState("u", root, "me", FolderIndex.load(tmp.resolve("u.index")),
                FolderIndex.load(tmp.resolve("u.wanted")),
                org.activemirroring.files.FolderSiblings.load(tmp.resolve("u.siblings")), here);
        ContentDigest.Digest d = ContentDigest.of(root.resolve("A.JPG"));
        FolderState.Stat s = FolderState.stat(root.resolve("A.JPG"));
        FolderEntry old = state.recordLocal(new FolderEntry("A.JPG", s.size(), s.mtimeMs(), null, s.fileKey(),
                d.sha256Hex(), d.blocks(), Map.of(), false), "A.JPG", 0);

        BlockMap peerBlocks = new BlockMap();
        FolderEntry renamed = new FolderEntry("a.jpg", content.length, 5000, null, null, d.sha256Hex(), d.blocks(),
                Map.of("m2", 1L), false, "m2");
        peerBlocks.add(peerRoot, renamed);
        BlockServer server = new BlockServer(peerBlocks);
        PeerRequests peers = new OnePeer("m2", server);
        Refusals refusals = new Refusals();
        FolderSync sync = new FolderSync(new FolderConfig.Folder("u", root, FolderFilter.ALL, 1 << 30), state, "me",
                null, Clock.systemUTC(), refusals);
        sync.caseInsensitive(true);

        assertEquals(FolderState.Outcome.WANTED, state.offer(renamed));
        assertEquals(FolderState.Outcome.WANTED, state.offer(old.toTombstone(5000).bumped("m2").withModifiedBy("m2")));
        try (FileAssembler assembler = new FileAssembler(here, peers, Duration.ofSeconds(5))) {
            assertFalse(sync.materialize(state.wanted("a.jpg"), assembler), "waits: A.JPG is still there");
            assertFalse(sync.materialize(state.wanted("a.jpg"), assembler));
            assertEquals(Map.of("case-clash", 1L), refusals.counts(), "reported once");
            assertTrue(sync.materialize(state.wanted("A.JPG"), assembler), "the old name's delete");
            assertFalse(Files.exists(root.resolve("A.JPG")));
            assertTrue(sync.materialize(state.wanted("a.jpg"), assembler));
        }
        assertTrue(java.util.Arrays.equals(content, Files.readAllBytes(root.resolve("a.jpg"))));
        assertEquals(0, state.wantedCount());
    }
}
