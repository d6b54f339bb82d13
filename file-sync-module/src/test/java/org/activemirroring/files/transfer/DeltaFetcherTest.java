package org.activemirroring.files.transfer;

import static org.activemirroring.files.transfer.TransferFixtures.bytesNotIn;
import static org.activemirroring.files.transfer.TransferFixtures.put;
import static org.activemirroring.files.transfer.TransferFixtures.insert;
import static org.activemirroring.files.transfer.TransferFixtures.random;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.activemirroring.files.FolderEntry;
import org.junit.jupiter.api.Test;

/** Edited files built out of the version they replace, through a {@link FileAssembler}. */
class DeltaFetcherTest extends AssemblerFixture {

    @Test
    void anInsertionCostsAboutTheInsertedBytesNotTheBlocksAroundIt() throws Exception {
        byte[] v1 = random(SIZE, 1);
        byte[] added = random(SIZE / 100, 2);
        byte[] v2 = insert(v1, SIZE / 3, added);
        FolderEntry old = put(local, "doc.bin", v1, localMap);
        FolderEntry now = put(peerRoot, "doc.bin", v2, peerMap);
        peers.peer("b", new BlockServer(peerMap)).deltas("b", new DeltaServer(peerMap));

        FileAssembler.Prepared p = build(now, v2);

        TransferCounters c = assembler.counters();
        long wholeBlocks = bytesNotIn(now, old.blocks());
        assertEquals(wholeBlocks, c.bytesBuiltByDelta(), "every changed block built by delta: " + c);
        assertEquals(0, c.blocksFetched(), "no block fetched whole: " + c);
        assertEquals(c.replyBytes(), p.bytesFetched(), "what came is the delta: " + c);
        assertEquals(0, peers.requests("b"));
        long wire = c.requestBytes() + c.replyBytes();
        assertTrue(wire < added.length + 4096, "about the inserted " + added.length + " bytes on the wire, not "
                + wire + " (whole blocks: " + wholeBlocks + ")");
        assertTrue(wholeBlocks > added.length + 4096, "whole blocks would have cost more: " + wholeBlocks);
    }

    @Test
    void aDeltaThatDoesNotBuildTheBlocksFallsBackToFetchingThemWhole() throws Exception {
        byte[] v1 = random(SIZE, 3);
        byte[] v2 = v1.clone();
        System.arraycopy(random(5000, 4), 0, v2, SIZE / 2, 5000);
        FolderEntry old = put(local, "doc.bin", v1, localMap);
        FolderEntry now = put(peerRoot, "doc.bin", v2, peerMap);
        DeltaServer server = new DeltaServer(peerMap);
        // The peer's op stream arrives with its last literal byte damaged.
        peers.peer("b", new BlockServer(peerMap)).deltas("b", (from, body) -> {
            byte[] r = server.handle(from, body);
            r[r.length - 1] ^= 0x5a;
            return r;
        });

        FileAssembler.Prepared p = build(now, v2);
        assertEquals(0, assembler.counters().bytesBuiltByDelta());
        long changedBlocks = now.blocks().stream().filter(b -> !old.blocks().contains(b)).map(b -> b.sha256Hex())
                .distinct().count();
        assertEquals(changedBlocks, assembler.counters().blocksFetched(), assembler.counters().toString());
        assertTrue(p.bytesFetched() > bytesNotIn(now, old.blocks()), "the useless delta came too: " + p.bytesFetched());
    }

    @Test
    void aPeerWithoutTheBlocksOrWithoutDeltasIsPassedOver() throws Exception {
        byte[] v1 = random(SIZE, 5);
        byte[] v2 = insert(v1, 1000, random(3000, 6));
        FolderEntry now = put(peerRoot, "doc.bin", v2, peerMap);
        put(local, "doc.bin", v1, localMap);
        peers.peer("old", new BlockServer(h -> List.of())).deltas("old", new DeltaServer(h -> List.of()))
                .peer("legacy", new BlockServer(peerMap))
                .peer("new", new BlockServer(peerMap)).deltas("new", new DeltaServer(peerMap));

        build(now, v2);
        assertTrue(assembler.counters().bytesBuiltByDelta() > 0, assembler.counters().toString());
        assertEquals(3, peers.deltaRequests.get(), "asked old (not held), legacy (no deltas), then new");
    }

    @Test
    void manyScatteredEditsAreBuiltByDeltaUpToALimitAndTheRestFetched() throws Exception {
        byte[] v1 = random(8 * SIZE, 8);
        byte[] v2 = v1.clone();
        // An edit every 160 KB (a few blocks apart): more runs of changed blocks than one file builds by delta.
        byte[] edit = random(64, 9);
        for (int at = 20_000; at + edit.length < v2.length; at += 160_000) {
            System.arraycopy(edit, 0, v2, at, edit.length);
        }
        FolderEntry old = put(local, "big.bin", v1, localMap);
        FolderEntry now = put(peerRoot, "big.bin", v2, peerMap);
        peers.peer("b", new BlockServer(peerMap)).deltas("b", new DeltaServer(peerMap));

        build(now, v2);
        assertEquals(DeltaFetcher.MAX_RUNS, peers.deltaRequests.get());
        assertTrue(assembler.counters().blocksFetched() > 0, "the runs past the limit came whole: " + assembler.counters());
        long byDelta = assembler.counters().bytesBuiltByDelta();
        assertTrue(byDelta > 0 && byDelta < bytesNotIn(now, old.blocks()), "some changed blocks built by delta, not all: "
                + assembler.counters());
    }

    @Test
    void aNewFileIsFetchedWholeWithoutADeltaRequest() throws Exception {
        byte[] data = random(SIZE / 4, 7);
        FolderEntry e = put(peerRoot, "fresh.bin", data, peerMap);
        peers.peer("b", new BlockServer(peerMap)).deltas("b", new DeltaServer(peerMap));
        FileAssembler.Prepared p = build(e, data);
        assertEquals(0, peers.deltaRequests.get());
        assertEquals(data.length, p.bytesFetched());
    }
}
