package org.activemirroring.files.transfer;

import static org.activemirroring.files.transfer.TransferFixtures.put;
import static org.activemirroring.files.transfer.TransferFixtures.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import org.activemirroring.files.FolderEntry;
import org.activemirroring.transport.Reply;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BlockServerTest {

    @TempDir
    Path root;

    private static List<BlockWire.Wanted> wanted(FolderEntry e) {
        return e.blocks().stream().map(b -> new BlockWire.Wanted(b.sha256Hex(), b.length())).toList();
    }

    @Test
    void servesVerifiedBlocksWithoutACopy() throws Exception {
        byte[] data = random(200_000, 1);
        BlockMap map = new BlockMap();
        FolderEntry e = put(root, "d/a.bin", data, map);
        BlockServer server = new BlockServer(map);
        List<BlockWire.Wanted> asked = wanted(e);

        Reply r = server.reply("b", BlockWire.encodeRequest(asked));
        assertTrue(r.offset() >= 1, "the byte before the body is left to the transport");
        int[] at = BlockWire.decodeReply(r, asked);
        for (int i = 0; i < at.length; i++) {
            FolderEntry.BlockRef b = e.blocks().get(i);
            assertArrayEquals(Arrays.copyOfRange(data, (int) b.offset(), (int) b.offset() + b.length()),
                    Arrays.copyOfRange(r.array(), at[i], at[i] + b.length()));
        }
        assertEquals(e.blocks().size(), server.blocksServed());
        assertEquals(data.length, server.bytesServed());
        assertArrayEquals(r.toBytes(), server.handle("b", BlockWire.encodeRequest(asked)));
    }

    @Test
    void answersNotHeldForAStalePlaceAndUsesAnotherThatVerifies() throws Exception {
        byte[] data = random(100_000, 2);
        BlockMap map = new BlockMap();
        FolderEntry good = put(root, "good.bin", data, map);
        FolderEntry stale = put(root, "stale.bin", data, map); // newest: tried first
        byte[] changed = data.clone();
        changed[0] ^= 1;
        Files.write(root.resolve("stale.bin"), changed);
        BlockServer server = new BlockServer(map);

        List<BlockWire.Wanted> asked = wanted(stale);
        int[] at = BlockWire.decodeReply(server.reply("b", BlockWire.encodeRequest(asked)), asked);
        assertTrue(Arrays.stream(at).allMatch(p -> p > 0), "the first block is read from good.bin instead");

        map.remove(root, good);
        at = BlockWire.decodeReply(server.reply("b", BlockWire.encodeRequest(asked)), asked);
        assertEquals(-1, at[0], "no place verifies: not held");
        assertTrue(at[1] > 0);
        Files.delete(root.resolve("stale.bin"));
        at = BlockWire.decodeReply(server.reply("b", BlockWire.encodeRequest(asked)), asked);
        assertTrue(Arrays.stream(at).allMatch(p -> p == -1), "a vanished file holds nothing");
    }

    @Test
    void refusesAMalformedRequest() {
        BlockServer server = new BlockServer(new BlockMap());
        assertThrows(BlockWireException.class, () -> server.reply("b", new byte[] {9, 0, 0, 0, 1}));
    }
}
