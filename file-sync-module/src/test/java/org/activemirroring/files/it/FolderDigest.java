package org.activemirroring.files.it;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * What a replicated folder holds, for comparing mirrors: relative path to SHA-256 of every regular
 * file, this module's temp files ({@code .am-tmp-*}) left out. Files are read streaming, so a
 * 1 GiB file costs a buffer, not a gigabyte of heap.
 */
final class FolderDigest {
    private FolderDigest() {
    }

    /** Relative path ('/'-separated) to content SHA-256, sorted by path. */
    static Map<String, String> of(Path root) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                if (Files.isRegularFile(p) && !p.getFileName().toString().startsWith(".am-tmp-")) {
                    out.put(root.relativize(p).toString().replace('\\', '/'), sha256(p));
                }
            }
        }
        return out;
    }

    /** {@link #of}, or a one-entry map naming the error (a file moved mid-walk): for failure messages. */
    static Map<String, String> safe(Path root) {
        try {
            return of(root);
        } catch (IOException | java.io.UncheckedIOException e) {
            return Map.of("error", e.toString());
        }
    }

    /** The SHA-256 of a file, read streaming. */
    static String sha256(Path file) throws IOException {
        MessageDigest md = sha256();
        byte[] buf = new byte[1 << 20];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    static String sha256(byte[] content) {
        return HexFormat.of().formatHex(sha256().digest(content));
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }
}
