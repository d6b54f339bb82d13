package org.activemirroring.files;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FolderPathsTest {

    @TempDir
    Path tmp;

    private static void refused(String rel, String reasonPart) {
        String why = FolderPaths.refusal(rel);
        assertTrue(why != null && why.contains(reasonPart), "'" + rel + "' -> " + why);
    }

    @Test
    void acceptsOrdinaryRelativePaths() {
        assertNull(FolderPaths.refusal("a.jpg"));
        assertNull(FolderPaths.refusal("2026/12/photo 1 (copy).jpg"));
        assertNull(FolderPaths.refusal("..hidden/x..y"));
        assertNull(FolderPaths.refusal("ünïcode/文件.txt"));
    }

    @Test
    void refusesDotDotSegments() {
        refused("..", "'..' segment");
        refused("a/../../etc/passwd", "'..' segment");
        refused("a/..", "'..' segment");
        refused("./a", "'.' segment");
    }

    @Test
    void refusesAbsolutePaths() {
        refused("/etc/passwd", "absolute");
        refused("C:/Windows", "absolute");
        refused("\\\\server\\share", "absolute");
        refused("a\\b", "'\\'");
    }

    @Test
    void refusesEmptySegmentsAndEmptyPath() {
        refused("", "empty");
        refused(null, "empty");
        refused("a//b", "empty segment");
        refused("a/", "empty segment");
    }

    @Test
    void refusesNulAndControlCharacters() {
        refused("a\0b", "NUL");
        refused("a\nb", "U+000A");
        refused("a\u007fb", "U+007F");
    }

    @Test
    void refusesNamesTooLongForTheFileSystem() {
        refused("a/" + "x".repeat(256), "longer than 255 bytes");
        assertNull(FolderPaths.refusal("x".repeat(255)));
    }

    @Test
    void resolvesInsideTheFolder() throws Exception {
        Files.createDirectories(tmp.resolve("a"));
        assertEquals(tmp.toRealPath().resolve("a/new.txt"), FolderPaths.resolveInside(tmp, "a/new.txt"));
        assertEquals(tmp.toRealPath().resolve("b/c/d"), FolderPaths.resolveInside(tmp, "b/c/d"));
    }

    @Test
    void refusesSymlinkEscapingTheFolder() throws Exception {
        Path outside = Files.createDirectories(tmp.resolve("outside"));
        Path folder = Files.createDirectories(tmp.resolve("folder"));
        Files.createSymbolicLink(folder.resolve("link"), outside);
        FolderPathException e = assertThrows(FolderPathException.class,
                () -> FolderPaths.resolveInside(folder, "link/evil.txt"));
        assertTrue(e.getMessage().contains("Refused path 'link/evil.txt'"), e.getMessage());
        assertTrue(e.reason().contains("symlink 'link'"), e.reason());
    }

    @Test
    void refusesSymlinkEvenInsideTheFolderAndAsLastName() throws Exception {
        Files.createDirectories(tmp.resolve("real"));
        Files.createSymbolicLink(tmp.resolve("alias"), tmp.resolve("real"));
        Files.writeString(tmp.resolve("real/f"), "x");
        Files.createSymbolicLink(tmp.resolve("real/lf"), tmp.resolve("real/f"));
        assertTrue(assertThrows(FolderPathException.class, () -> FolderPaths.resolveInside(tmp, "alias/f"))
                .reason().contains("symlink"));
        assertTrue(assertThrows(FolderPathException.class, () -> FolderPaths.resolveInside(tmp, "real/lf"))
                .reason().contains("symlink 'real/lf'"));
    }

    @Test
    void resolveInsideAppliesThePureRules() {
        FolderPathException e = assertThrows(FolderPathException.class, () -> FolderPaths.resolveInside(tmp, "a\0b"));
        assertTrue(e.getMessage().contains("'a\\u0000b'"), e.getMessage());
        assertTrue(e.reason().contains("NUL"));
        assertThrows(FolderPathException.class, () -> FolderPaths.resolveInside(tmp, "../x"));
        assertThrows(FolderPathException.class, () -> FolderPaths.resolveInside(tmp, tmp.resolve("x").toString()));
    }
}
