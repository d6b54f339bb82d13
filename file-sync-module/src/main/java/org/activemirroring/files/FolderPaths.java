package org.activemirroring.files;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystem;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/**
 * The safety rules for a relative path inside a folder, whatever it came from (a peer, the index, a
 * client): no {@code ..} or {@code .} segments, not absolute, no empty segments, no NUL or control
 * characters, only names the local file system can hold, and nothing reached through a symlink or
 * outside the folder. Files are only ever written through a path that passed
 * {@link #resolveInside(Path, String)}.
 */
public final class FolderPaths {

    /** Longest name (one segment) in UTF-8 bytes that common file systems (ext4, xfs, apfs) hold. */
    static final int MAX_NAME_BYTES = 255;

    private FolderPaths() {
    }

    /** Why {@code rel} is refused by the pure rules, or null when it is acceptable. */
    public static String refusal(String rel) {
        if (rel == null || rel.isEmpty()) {
            return "the path is empty";
        }
        for (int i = 0; i < rel.length(); i++) {
            char c = rel.charAt(i);
            if (c == 0) {
                return "it contains a NUL character";
            }
            if (c < 0x20 || c == 0x7f) {
                return String.format("it contains the control character U+%04X", (int) c);
            }
        }
        if (rel.startsWith("/") || rel.startsWith("\\") || rel.matches("^[A-Za-z]:.*")) {
            return "it is absolute; folder paths are relative to the folder";
        }
        if (rel.indexOf('\\') >= 0) {
            return "it contains '\\'; folder paths separate names with '/'";
        }
        for (String seg : rel.split("/", -1)) {
            if (seg.isEmpty()) {
                return "it has an empty segment ('//', or a leading or trailing '/')";
            }
            if (seg.equals("..")) {
                return "it has a '..' segment, which could leave the folder";
            }
            if (seg.equals(".")) {
                return "it has a '.' segment";
            }
            if (seg.getBytes(StandardCharsets.UTF_8).length > MAX_NAME_BYTES) {
                return "the name '" + seg.substring(0, 20) + "...' is longer than " + MAX_NAME_BYTES + " bytes";
            }
        }
        return null;
    }

    /** {@link #refusal(String)}, plus whether {@code fs} can hold the names at all. */
    public static String refusal(String rel, FileSystem fs) {
        String why = refusal(rel);
        if (why != null) {
            return why;
        }
        try {
            fs.getPath(rel);
        } catch (InvalidPathException e) {
            return "this file system cannot hold that name (" + e.getReason() + ")";
        }
        return null;
    }

    /** Throws when {@link #refusal(String, FileSystem)} refuses {@code rel} on {@code root}'s file system. */
    public static void check(Path root, String rel) throws FolderPathException {
        String why = refusal(rel, root.getFileSystem());
        if (why != null) {
            throw new FolderPathException(rel, why);
        }
    }

    /**
     * Resolves {@code rel} inside the folder {@code root} against the real file system: the pure
     * rules, then no existing component (including the last) may be a symlink, and the deepest
     * existing ancestor must really be inside {@code root}. Missing components are fine (the
     * file is about to be created). The check and a later write are not atomic; callers write
     * through temp files created by this module in a checked directory.
     */
    public static Path resolveInside(Path root, String rel) throws FolderPathException {
        check(root, rel);
        Path realRoot;
        try {
            realRoot = root.toRealPath();
        } catch (IOException e) {
            throw new FolderPathException(rel, "the folder " + root + " cannot be read (" + e + ")");
        }
        Path current = realRoot;
        for (String seg : rel.split("/")) {
            current = current.resolve(seg);
            if (Files.isSymbolicLink(current)) {
                throw new FolderPathException(rel, "it goes through the symlink '"
                        + realRoot.relativize(current).toString().replace('\\', '/')
                        + "'; replicated folders never follow symlinks");
            }
            if (!Files.exists(current, LinkOption.NOFOLLOW_LINKS)) {
                break;
            }
        }
        Path target = realRoot.resolve(rel).normalize();
        Path existing = target;
        while (existing != null && !Files.exists(existing, LinkOption.NOFOLLOW_LINKS)) {
            existing = existing.getParent();
        }
        try {
            if (existing == null || !existing.toRealPath().startsWith(realRoot)) {
                throw new FolderPathException(rel, "it resolves outside the folder " + realRoot);
            }
        } catch (IOException e) {
            throw new FolderPathException(rel, "it cannot be resolved (" + e + ")");
        }
        return target;
    }

    /** {@code rel} with control characters shown as \\uXXXX, for messages and logs. */
    public static String printable(String rel) {
        if (rel == null) {
            return "null";
        }
        StringBuilder sb = new StringBuilder();
        for (char c : rel.toCharArray()) {
            if (c < 0x20 || c == 0x7f) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    /** The relative path of {@code file} under {@code root}, with '/' separators. */
    public static String relative(Path root, Path file) {
        String r = root.toString();
        String f = file.toString();
        String sep = root.getFileSystem().getSeparator();
        if (sep.equals("/") && f.length() > r.length() + 1 && f.startsWith(r) && f.charAt(r.length()) == '/'
                && !r.isEmpty() && !r.endsWith("/")) {
            return f.substring(r.length() + 1); // the scan's common case, without Path.relativize's cost
        }
        String s = root.relativize(file).toString();
        return sep.equals("/") ? s : s.replace(sep, "/");
    }
}
