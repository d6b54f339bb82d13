package org.activemirroring.files.transfer;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.activemirroring.files.FolderEntry;

/**
 * What a wanted entry says its content is, checked against itself (before anything is written)
 * and against a temp file (what a resumed transfer can keep, and the finished file).
 */
final class WantedContent {

    private static final HexFormat HEX = HexFormat.of();

    private WantedContent() {
    }

    /** Refuses, before anything is written, an entry whose blocks do not tile [0, size) or have bad hashes. */
    static void checkLayout(FolderEntry w) throws ContentMismatchException {
        String sha = w.sha256Hex();
        if (sha == null || sha.length() != 64 || !BlockWire.Wanted.isHex(sha)) {
            throw new ContentMismatchException(w.path(), "its SHA-256 '" + sha + "' is not 64 hex digits");
        }
        long expected = 0;
        for (FolderEntry.BlockRef b : w.blocks()) {
            if (b.offset() != expected) {
                throw new ContentMismatchException(w.path(), "its block at offset " + b.offset() + " should start at " + expected);
            }
            if (b.length() <= 0 || b.length() > BlockWire.MAX_BLOCK_LENGTH) {
                throw new ContentMismatchException(w.path(), "its block at offset " + b.offset() + " has " + b.length()
                        + " bytes; blocks hold 1.." + BlockWire.MAX_BLOCK_LENGTH);
            }
            if (b.sha256Hex().length() != 64 || !BlockWire.Wanted.isHex(b.sha256Hex())) {
                throw new ContentMismatchException(w.path(), "its block at offset " + b.offset() + " has the hash '"
                        + b.sha256Hex() + "', not 64 hex digits");
            }
            expected += b.length();
        }
        if (expected != w.size()) {
            throw new ContentMismatchException(w.path(), "its " + w.blocks().size() + " blocks hold " + expected
                    + " bytes but its size is " + w.size());
        }
    }

    /**
     * Truncates the temp file to the wanted size and keeps each block already in it that
     * verifies (a resumed transfer); returns the others by hash, in file order.
     */
    static Map<String, BlockFetcher.Need> missingAfterResume(FileChannel ch, FolderEntry w) throws IOException {
        long existing = ch.size();
        if (existing > w.size()) {
            ch.truncate(w.size());
            existing = w.size();
        }
        MessageDigest md = BlockReads.sha256();
        byte[] buf = existing > 0 ? new byte[maxBlockLength(w)] : null;
        Map<String, List<Long>> offsets = new LinkedHashMap<>();
        Map<String, Integer> lengths = new LinkedHashMap<>();
        for (FolderEntry.BlockRef b : w.blocks()) {
            String hex = b.sha256Hex().toLowerCase(Locale.ROOT);
            if (b.offset() + b.length() <= existing && BlockReads.readFully(ch, buf, 0, b.length(), b.offset())
                    && BlockReads.matches(md, buf, 0, b.length(), HEX.parseHex(hex))) {
                continue;
            }
            offsets.computeIfAbsent(hex, k -> new ArrayList<>()).add(b.offset());
            lengths.put(hex, b.length());
        }
        Map<String, BlockFetcher.Need> missing = new LinkedHashMap<>();
        offsets.forEach((hex, list) -> missing.put(hex, new BlockFetcher.Need(new BlockWire.Wanted(hex, lengths.get(hex)),
                list.stream().mapToLong(Long::longValue).toArray())));
        return missing;
    }

    /** Refuses a built file whose size or SHA-256 is not the wanted one. */
    static void checkWholeFile(FileChannel ch, FolderEntry w) throws IOException {
        long size = ch.size();
        if (size != w.size()) {
            throw new ContentMismatchException(w.path(), "the built file has " + size + " bytes, not " + w.size());
        }
        MessageDigest md = BlockReads.sha256();
        // 256 KiB: below half a G1 region, so re-reading every built file allocates no humongous array.
        byte[] buf = new byte[(int) Math.min(size, 256 * 1024)];
        for (long pos = 0; pos < size; ) {
            int n = (int) Math.min(buf.length, size - pos);
            if (!BlockReads.readFully(ch, buf, 0, n, pos)) {
                throw new ContentMismatchException(w.path(), "the built file ended early at " + pos + " bytes");
            }
            md.update(buf, 0, n);
            pos += n;
        }
        String got = HEX.formatHex(md.digest());
        if (!got.equalsIgnoreCase(w.sha256Hex())) {
            throw new ContentMismatchException(w.path(), "its blocks verify but the whole file hashes to " + got
                    + ", not " + w.sha256Hex());
        }
    }

    private static int maxBlockLength(FolderEntry w) {
        return w.blocks().stream().mapToInt(FolderEntry.BlockRef::length).max().orElse(0);
    }
}
