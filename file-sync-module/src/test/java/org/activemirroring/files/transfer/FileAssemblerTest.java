package org.activemirroring.files.transfer;

import static org.activemirroring.files.transfer.TransferFixtures.bytesNotIn;
import static org.activemirroring.files.transfer.TransferFixtures.entry;
import static org.activemirroring.files.transfer.TransferFixtures.put;
import static org.activemirroring.files.transfer.TransferFixtures.random;
import static org.activemirroring.files.transfer.TransferFixtures.sha256Hex;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.activemirroring.files.FolderEntry;
import org.activemirroring.files.FolderIndex;
import org.activemirroring.transport.Reply;
import org.junit.jupiter.api.Test;

class FileAssemblerTest extends AssemblerFixture {

    private List<Path> temps() throws IOException {
        try (Stream<Path> s = Files.walk(local)) {
            return s.filter(p -> p.getFileName().toString().startsWith(FolderIndex.TEMP_PREFIX)).toList();
        }
    }

    @Test
    void fetchesANewFileWhole() throws Exception {
        byte[] data = random(SIZE, 1);
        FolderEntry e = put(peerRoot, "photos/2024/a.jpg", data, peerMap);
        BlockServer server = new BlockServer(peerMap);
        peers.peer("b", server);

        FileAssembler.Prepared p = assembler.prepare(local, e, List.of());
        assertEquals(SIZE, p.bytesFetched());
        assertEquals(0, p.bytesFromLocal());
        assertTrue(p.temp().getFileName().toString().startsWith(FolderIndex.TEMP_PREFIX));
        assertEquals(p.target().getParent(), p.temp().getParent());
        assertFalse(Files.exists(p.target()), "nothing at the target before commit");

        FileAssembler.FileStat stat = assembler.commit(p);
        assertArrayEquals(data, Files.readAllBytes(local.resolve("photos/2024/a.jpg")));
        assertEquals(new FileAssembler.FileStat(SIZE, e.mtimeMs(), stat.fileKey()), stat);
        assertEquals(SIZE, assembler.bytesFetched());
        assertEquals(SIZE, server.bytesServed());
        assertTrue(peers.requests("b") > 1);
        assertTrue(peers.maxInFlight.get() <= 3, "at most parallelRequests in flight, not " + peers.maxInFlight.get());
        assertTrue(temps().isEmpty());
    }

    @Test
    void buildsARenamedFileFromLocalBlocksWithoutFetching() throws Exception {
        byte[] data = random(SIZE, 2);
        put(local, "old/name.bin", data, localMap);
        put(peerRoot, "new/name.bin", data, peerMap);
        peers.peer("b", new BlockServer(peerMap));

        FileAssembler.Prepared p = assembler.prepare(local, entry("new/name.bin", data), List.of("b"));
        assertEquals(0, p.bytesFetched());
        assertEquals(SIZE, p.bytesFromLocal());
        assertEquals(0, peers.requests("b"));
        assembler.commit(p);
        assertArrayEquals(data, Files.readAllBytes(local.resolve("new/name.bin")));
        assertArrayEquals(data, Files.readAllBytes(local.resolve("old/name.bin")));
    }

    @Test
    void fetchesOnlyTheChangedBlocksOfAnEditedFile() throws Exception {
        byte[] v1 = random(SIZE, 3);
        byte[] v2 = v1.clone();
        byte[] edit = random(SIZE / 100, 4);
        System.arraycopy(edit, 0, v2, SIZE / 2, edit.length);
        FolderEntry old = put(local, "doc.bin", v1, localMap);
        FolderEntry now = put(peerRoot, "doc.bin", v2, peerMap);
        peers.peer("b", new BlockServer(peerMap));

        FileAssembler.Prepared p = assembler.prepare(local, now, List.of());
        long changed = bytesNotIn(now, old.blocks());
        assertEquals(changed, p.bytesFetched());
        assertTrue(changed > 0 && changed < SIZE / 10, "a 1% edit fetches a few blocks, here " + changed);
        assertEquals(SIZE - changed, p.bytesFromLocal());
        assembler.commit(p);
        assertArrayEquals(v2, Files.readAllBytes(local.resolve("doc.bin")));
    }

    @Test
    void resumesWithTheBlocksAlreadyFetched() throws Exception {
        byte[] data = random(SIZE, 5);
        FolderEntry e = put(peerRoot, "big.bin", data, peerMap);
        // Peer "half" holds every other block.
        List<FolderEntry.BlockRef> halfHeld = new ArrayList<>();
        for (int i = 0; i < e.blocks().size(); i += 2) {
            halfHeld.add(e.blocks().get(i));
        }
        Set<String> held = halfHeld.stream().map(FolderEntry.BlockRef::sha256Hex).collect(Collectors.toSet());
        peers.peer("half", new BlockServer(h -> held.contains(h) ? peerMap.places(h) : List.of()));

        BlocksUnavailableException missing = assertThrows(BlocksUnavailableException.class,
                () -> assembler.prepare(local, e, List.of()));
        assertTrue(missing.getMessage().contains("big.bin") && missing.getMessage().contains("half"), missing.getMessage());
        assertEquals(e.blocks().size() - halfHeld.size(), missing.missingBlocks());
        assertEquals(1, temps().size(), "the partial file is kept for a resume");
        assertFalse(Files.exists(local.resolve("big.bin")));

        // "half" leaves; "full" arrives. Only the blocks "half" did not have are fetched.
        peers.reachable.remove("half");
        BlockServer full = new BlockServer(peerMap);
        peers.peer("full", full);
        FileAssembler.Prepared p = assembler.prepare(local, e, List.of());
        long rest = bytesNotIn(e, halfHeld);
        assertEquals(rest, p.bytesFetched());
        assertEquals(rest, full.bytesServed());
        assertEquals(SIZE, assembler.bytesFetched(), "each byte fetched once over both attempts");
        assembler.commit(p);
        assertArrayEquals(data, Files.readAllBytes(local.resolve("big.bin")));
        assertTrue(temps().isEmpty());
    }

    @Test
    void refusesCorruptBlocksFromOnePeerAndTakesThemFromTheNext() throws Exception {
        byte[] data = random(SIZE / 4, 6);
        FolderEntry e = put(peerRoot, "x.bin", data, peerMap);
        peers.peer("bad", new BlockServer(peerMap)).peer("good", new BlockServer(peerMap));
        peers.tamper.put("bad", r -> flipFirstByteOfEachBlock(r));

        FileAssembler.Prepared p = assembler.prepare(local, e, List.of("bad"));
        assertEquals(e.blocks().size(), assembler.blocksRefused());
        assertEquals(data.length, p.bytesFetched(), "only verified bytes count as fetched");
        assertTrue(peers.requests("good") > 0);
        assembler.commit(p);
        assertArrayEquals(data, Files.readAllBytes(local.resolve("x.bin")));
    }

    @Test
    void asksTheNextPeerWhenOneFails() throws Exception {
        byte[] data = random(SIZE, 7); // 16 batches of 64 KiB
        FolderEntry e = put(peerRoot, "y.bin", data, peerMap);
        peers.peer("down", null).peer("up", new BlockServer(peerMap));

        FileAssembler.Prepared p = assembler.prepare(local, e, List.of("down", "not-a-member"));
        assertTrue(peers.requests("down") <= 3, "after a failure, a peer gets no requests beyond the 3 already in flight, not "
                + peers.requests("down"));
        assembler.commit(p);
        assertArrayEquals(data, Files.readAllBytes(local.resolve("y.bin")));
    }

    @Test
    void wholeFileMismatchLeavesNothingBehind() throws Exception {
        byte[] data = random(100_000, 8);
        FolderEntry good = put(peerRoot, "z.bin", data, peerMap);
        peers.peer("b", new BlockServer(peerMap));
        FolderEntry lying = new FolderEntry(good.path(), good.size(), good.mtimeMs(), null, null,
                sha256Hex(new byte[] {1}), good.blocks(), good.versions(), false);

        ContentMismatchException ex = assertThrows(ContentMismatchException.class,
                () -> assembler.prepare(local, lying, List.of()));
        assertTrue(ex.getMessage().contains("z.bin"), ex.getMessage());
        assertFalse(Files.exists(local.resolve("z.bin")));
        assertTrue(temps().isEmpty());
    }

    @Test
    void inconsistentBlockListIsRefusedBeforeAnythingIsFetched() throws Exception {
        byte[] data = random(100_000, 9);
        FolderEntry good = put(peerRoot, "w.bin", data, peerMap);
        peers.peer("b", new BlockServer(peerMap));
        List<FolderEntry.BlockRef> gap = new ArrayList<>(good.blocks());
        gap.remove(1);
        FolderEntry bad = new FolderEntry("w.bin", good.size(), 1, null, null, good.sha256Hex(), gap, Map.of(), false);
        FolderEntry shortSize = new FolderEntry("w.bin", good.size() + 1, 1, null, null, good.sha256Hex(),
                good.blocks(), Map.of(), false);

        assertThrows(ContentMismatchException.class, () -> assembler.prepare(local, bad, List.of()));
        assertThrows(ContentMismatchException.class, () -> assembler.prepare(local, shortSize, List.of()));
        assertEquals(0, peers.requests("b"));
        assertTrue(temps().isEmpty());
    }

    @Test
    void buildsAnEmptyFile() throws Exception {
        FolderEntry e = entry("empty/e.txt", new byte[0]);
        assertTrue(e.blocks().isEmpty());
        FileAssembler.Prepared p = assembler.prepare(local, e, List.of());
        assertEquals(0, p.bytesFetched());
        FileAssembler.FileStat stat = assembler.commit(p);
        assertEquals(0, stat.size());
        assertEquals(0, Files.size(local.resolve("empty/e.txt")));
    }

    @Test
    void commitReplacesTheTargetAtomicallyWithTheWantedTimeAndMode() throws Exception {
        Files.write(local.resolve("c.txt"), "old content".getBytes());
        byte[] data = "new content, longer than before".getBytes();
        FolderEntry e = entry("c.txt", data, 1_600_000_000_123L, 0640);
        localMap.add(local, e); // the bytes are not there yet: every place is stale
        put(peerRoot, "c.txt", data, peerMap);
        peers.peer("b", new BlockServer(peerMap));

        FileAssembler.Prepared p = assembler.prepare(local, e, List.of());
        assertArrayEquals("old content".getBytes(), Files.readAllBytes(local.resolve("c.txt")));
        FileAssembler.FileStat stat = assembler.commit(p);
        assertArrayEquals(data, Files.readAllBytes(local.resolve("c.txt")));
        assertEquals(1_600_000_000_123L, stat.mtimeMs());
        assertEquals(data.length, stat.size());
        assertEquals(1_600_000_000_123L, Files.getLastModifiedTime(local.resolve("c.txt")).toMillis());
        if (local.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            assertEquals(PosixFilePermissions.fromString("rw-r-----"), Files.getPosixFilePermissions(local.resolve("c.txt")));
            assertEquals(String.valueOf(Files.getAttribute(local.resolve("c.txt"), "fileKey", LinkOption.NOFOLLOW_LINKS)),
                    stat.fileKey());
        }
        assertTrue(temps().isEmpty());
    }

    @Test
    void discardDeletesThePreparedTemp() throws Exception {
        byte[] data = random(50_000, 10);
        put(local, "src.bin", data, localMap);
        FileAssembler.Prepared p = assembler.prepare(local, entry("copy.bin", data), List.of());
        assertTrue(Files.exists(p.temp()));
        assembler.discard(p);
        assertTrue(temps().isEmpty());
        assertFalse(Files.exists(local.resolve("copy.bin")));
    }

    @Test
    void aClosedAssemblerSaysSo() throws Exception {
        byte[] data = random(50_000, 11);
        FolderEntry e = put(peerRoot, "late.bin", data, peerMap);
        peers.peer("b", new BlockServer(peerMap));
        assembler.close();
        IllegalStateException ex = assertThrows(IllegalStateException.class, () -> assembler.prepare(local, e, List.of()));
        assertTrue(ex.getMessage().contains("closed"), ex.getMessage());
    }

    @Test
    void refusesATargetBehindASymlink() throws Exception {
        Path outside = Files.createDirectories(peerRoot.resolve("outside"));
        Files.createSymbolicLink(local.resolve("link"), outside);
        RefusedTargetException e = assertThrows(RefusedTargetException.class,
                () -> assembler.prepare(local, entry("link/f.bin", new byte[] {1, 2, 3}), List.of()));
        assertTrue(e.getMessage().contains("symlink"), e.getMessage());
        try (Stream<Path> s = Files.list(outside)) {
            assertEquals(0, s.count());
        }
    }

    /** The reply with the first byte of every block it holds changed, as a broken disk would send it. */
    private static Reply flipFirstByteOfEachBlock(Reply r) {
        byte[] copy = r.toBytes().clone();
        int pos = 0;
        while (pos < copy.length) {
            int length = java.nio.ByteBuffer.wrap(copy, pos, 4).getInt();
            pos += 4;
            if (length > 0) {
                copy[pos] ^= 0x55;
                pos += length;
            }
        }
        return Reply.of(copy);
    }
}
