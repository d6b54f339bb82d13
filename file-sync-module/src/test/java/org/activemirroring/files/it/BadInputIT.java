package org.activemirroring.files.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

import org.activemirroring.files.FileChange;
import org.activemirroring.files.sync.FileSyncOptions;
import org.activemirroring.files.sync.FileSyncStatus;
import org.activemirroring.files.transfer.BlockWire;
import org.activemirroring.testsupport.Await;
import org.activemirroring.testsupport.MirrorSettings;
import org.activemirroring.transport.JGroupsPeerTransport;
import org.activemirroring.transport.TransportConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A mirror that sends bad file changes (hand-made payloads on a real transport) and serves bad
 * blocks: each is refused, logged once and counted on status; nothing is written outside the
 * folder, nothing half-written becomes visible, and the good change sent after them arrives.
 */
class BadInputIT {
    static final Duration WAIT = Duration.ofSeconds(60);
    static final HexFormat HEX = HexFormat.of();

    @TempDir
    Path tmp;
    FolderMirror victim;
    JGroupsPeerTransport evil;
    final Map<String, byte[]> served = new ConcurrentHashMap<>();
    final Map<String, Boolean> corrupt = new ConcurrentHashMap<>();

    @AfterEach
    void stop() {
        if (victim != null) {
            victim.close();
        }
        if (evil != null) {
            evil.close();
        }
    }

    @Test
    void badChangesAreRefusedCountedAndTheStreamGoesOn() throws Exception {
        int pv = MirrorSettings.freeTransportPort();
        int pe = MirrorSettings.freeTransportPort();
        String cluster = "bad-" + System.nanoTime();
        Map<String, String> vs = FolderMirror.settings("victim", tmp, pv, List.of(pv, pe), cluster);
        vs.put("mirror.folder.u.max-file-bytes", "10000");
        victim = FolderMirror.start(vs, FileSyncOptions.defaults());
        Path outside = Files.createDirectories(tmp.resolve("outside"));
        Files.createSymbolicLink(victim.folder.resolve("link"), outside);

        Map<String, String> es = FolderMirror.settings("evil", tmp, pe, List.of(pv, pe), cluster);
        List<String> problems = new ArrayList<>();
        evil = new JGroupsPeerTransport(TransportConfig.from(es, problems));
        assertEquals(List.of(), problems);
        evil.registerRequestHandler(BlockWire.KIND, new org.activemirroring.transport.RequestHandler() {
            @Override
            public byte[] handle(String from, byte[] body) throws Exception {
                return reply(from, body).toBytes();
            }

            @Override
            public org.activemirroring.transport.Reply reply(String from, byte[] body) throws Exception {
                return BlockWire.encodeReply(BlockWire.decodeRequest(body), (w, dst, off) -> {
                    byte[] b = served.get(w.sha256Hex());
                    if (b == null) {
                        return false;
                    }
                    byte[] out = corrupt.containsKey(w.sha256Hex()) ? new byte[b.length] : b;
                    System.arraycopy(out, 0, dst, off, out.length);
                    return true;
                });
            }
        });
        evil.start(e -> { }, Map.of());
        Await.until(WAIT, () -> victim.transport.members().size() == 2, () -> "members " + victim.transport.members());

        byte[] content = random(3000, 1);
        publish("u", "../escape.txt", content, null);
        publish("u", "/abs.txt", content, null);
        publish("u", "n".repeat(300) + ".txt", content, null);
        publish("u", "big.bin", random(20_000, 2), null);
        publish("u", "link/x.txt", content, null);
        byte[] badBlock = random(4000, 3);
        corrupt.put(sha(badBlock), true);
        publish("u", "bad-block.bin", badBlock, null);
        publish("u", "mismatch.bin", random(5000, 4), sha(new byte[] {1}));
        evil.publish(FileChange.PAYLOAD_TYPE, new byte[] {1, 2, 3});
        publish("nope", "a.txt", content, null);
        byte[] ok = "the good change after the bad ones".getBytes(StandardCharsets.UTF_8);
        publish("u", "ok.txt", ok, null);

        Await.until(WAIT, () -> Files.exists(victim.folder.resolve("ok.txt"))
                        && victim.files.status().refused().getOrDefault("content-mismatch", 0L) == 1
                        && victim.files.status().blocksRefused() > 0
                        && victim.files.status().refused().getOrDefault("unsafe-path", 0L) == 4,
                () -> "status " + victim.files.status());
        assertEquals("the good change after the bad ones", Files.readString(victim.folder.resolve("ok.txt")));
        FileSyncStatus s = victim.files.status();
        assertEquals(1L, s.refused().get("too-large"), s.toString());
        assertEquals(1L, s.refused().get("unreadable"), s.toString());
        assertEquals(1L, s.refused().get("unknown-folder"), s.toString());
        assertTrue(s.lastRefusal() != null && s.lastRefusal().contains("evil"), s.lastRefusal());

        try (Stream<Path> out = Files.list(outside)) {
            assertEquals(0, out.count(), "nothing is written through the symlink");
        }
        assertFalse(Files.exists(tmp.resolve("victim").resolve("escape.txt")));
        assertFalse(Files.exists(Path.of("/abs.txt")));
        List<String> visible = new ArrayList<>();
        try (Stream<Path> all = Files.walk(victim.folder)) {
            all.filter(p -> !p.equals(victim.folder))
                    .map(p -> victim.folder.relativize(p).toString())
                    .filter(n -> !n.startsWith(".am-tmp-"))
                    .forEach(visible::add);
        }
        assertEquals(List.of("link", "ok.txt"), visible.stream().sorted().toList(), "only the good file is visible");
    }

    /** Publishes a hand-made change of a live file, its content served from the evil mirror. */
    void publish(String folder, String path, byte[] content, String wholeSha) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(1);
            out.writeUTF(folder);
            out.writeUTF(path);
            out.writeByte(0);
            out.writeLong(content.length);
            out.writeLong(1_700_000_000_000L);
            out.writeInt(0644);
            out.write(HEX.parseHex(wholeSha == null ? sha(content) : wholeSha));
            out.writeInt(1);
            out.writeInt(content.length);
            out.write(HEX.parseHex(sha(content)));
            out.writeInt(1);
            out.writeUTF("evil");
            out.writeLong(1);
        }
        served.put(sha(content), content);
        evil.publish(FileChange.PAYLOAD_TYPE, bytes.toByteArray());
    }

    static String sha(byte[] b) throws IOException {
        try {
            return HEX.formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IOException(e);
        }
    }

    static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }
}
