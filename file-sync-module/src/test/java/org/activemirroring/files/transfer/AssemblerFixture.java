package org.activemirroring.files.transfer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.activemirroring.files.FolderEntry;

import org.activemirroring.files.transfer.TransferFixtures.FakePeers;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the assembler tests share: this mirror's folder and block map, a peer's, peers in this JVM,
 * and an assembler with small batches (so one file takes several requests in flight).
 */
abstract class AssemblerFixture {

    static final int SIZE = 1 << 20;

    @TempDir
    Path local;
    @TempDir
    Path peerRoot;

    final BlockMap localMap = new BlockMap();
    final BlockMap peerMap = new BlockMap();
    final FakePeers peers = new FakePeers();
    FileAssembler assembler;

    @BeforeEach
    void setUp() {
        assembler = new FileAssembler(localMap, peers, 3, 64 * 1024, Duration.ofSeconds(5));
    }

    @AfterEach
    void tearDown() {
        assembler.close();
    }

    /** Builds {@code wanted} in {@link #local}, moves it into place and checks it holds {@code expected}. */
    FileAssembler.Prepared build(FolderEntry wanted, byte[] expected) throws Exception {
        FileAssembler.Prepared p = assembler.prepare(local, wanted, List.of());
        assembler.commit(p);
        assertArrayEquals(expected, Files.readAllBytes(local.resolve(wanted.path())));
        return p;
    }
}
