package org.activemirroring.files;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.activemirroring.config.ConfigException;
import org.activemirroring.config.ConfigOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FolderConfigTest {

    @TempDir
    Path base;

    private Map<String, String> settings(String... kv) {
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }

    private List<String> problems(Map<String, String> raw) {
        List<String> problems = new ArrayList<>();
        FolderConfig.from(raw, base, problems);
        return problems;
    }

    private static void assertOneProblemContaining(List<String> problems, String... parts) {
        assertEquals(1, problems.size(), problems.toString());
        for (String p : parts) {
            assertTrue(problems.get(0).contains(p), "'" + p + "' not in: " + problems.get(0));
        }
    }

    @Test
    void parsesFoldersWithDefaultsAndRelativePaths() throws Exception {
        Files.createDirectories(base.resolve("up"));
        Path avatars = Files.createDirectories(base.resolve("av"));
        FolderConfig c = FolderConfig.from(settings(
                "mirror.folders", "uploads, avatars",
                "mirror.folder.uploads.path", "up",
                "mirror.folder.uploads.exclude", "*.tmp, cache/**",
                "mirror.folder.avatars.path", avatars.toString(),
                "mirror.folder.avatars.include", "**/*.png",
                "mirror.folder.avatars.max-file-bytes", "1048576"), base);
        assertEquals(List.of("uploads", "avatars"), c.folders().stream().map(FolderConfig.Folder::name).toList());
        FolderConfig.Folder up = c.folder("uploads");
        assertEquals(base.resolve("up").toAbsolutePath().normalize(), up.root());
        assertEquals(FolderConfig.DEFAULT_MAX_FILE_BYTES, up.maxFileBytes());
        assertEquals(1048576, c.folder("avatars").maxFileBytes());
        assertTrue(up.filter().includes("a/b.jpg"));
        assertFalse(up.filter().includes("a/b.tmp"));
        assertFalse(up.filter().includes("cache/x/y.jpg"));
        assertTrue(c.folder("avatars").filter().includes("x.png"));
        assertTrue(c.folder("avatars").filter().includes("u/1/x.png"));
        assertFalse(c.folder("avatars").filter().includes("u/1/x.jpg"));
    }

    @Test
    void noFoldersIsValid() {
        assertTrue(FolderConfig.from(Map.of(), base).folders().isEmpty());
    }

    @Test
    void everyOptionHasADoc() {
        for (ConfigOption<?> o : FolderConfig.OPTIONS) {
            assertFalse(o.doc().isBlank(), o.key());
        }
    }

    @Test
    void badNameIsReported() {
        assertOneProblemContaining(problems(settings("mirror.folders", "Up loads")),
                "Invalid folder name 'Up loads'", "[a-z0-9_-]");
    }

    @Test
    void missingPathIsReported() {
        assertOneProblemContaining(problems(settings("mirror.folders", "uploads")),
                "Missing 'mirror.folder.uploads.path'", "set it in mirror.properties");
    }

    @Test
    void pathThatIsNotADirectoryIsReported() throws Exception {
        Files.writeString(base.resolve("file"), "x");
        assertOneProblemContaining(problems(settings("mirror.folders", "u", "mirror.folder.u.path", "file")),
                "Invalid value 'file' for 'mirror.folder.u.path'", "is not a directory", "create it");
        assertOneProblemContaining(problems(settings("mirror.folders", "u", "mirror.folder.u.path", "nope")),
                "is not a directory");
    }

    @Test
    void pathThatIsNotWritableIsReported() throws Exception {
        // Root may write anywhere, so the file system cannot refuse here: the check is told instead.
        Files.createDirectories(base.resolve("ro"));
        List<String> p = new java.util.ArrayList<>();
        FolderConfig.from(settings("mirror.folders", "u", "mirror.folder.u.path", "ro"), base, p,
                dir -> !dir.getFileName().toString().equals("ro"));
        assertEquals(1, p.size(), p.toString());
        assertTrue(p.get(0).contains("is not writable") && p.get(0).contains("permissions"), p.get(0));
    }

    @Test
    void unknownKeysAreReported() throws Exception {
        Files.createDirectories(base.resolve("u"));
        List<String> p = problems(settings("mirror.folders", "u", "mirror.folder.u.path", "u",
                "mirror.folder.u.exclud", "*.tmp", "mirror.folder.other.path", "u"));
        assertEquals(2, p.size(), p.toString());
        assertTrue(p.stream().anyMatch(s -> s.contains("Unknown key 'mirror.folder.u.exclud'")
                && s.contains("path, include, exclude, max-file-bytes")), p.toString());
        assertTrue(p.stream().anyMatch(s -> s.contains("Unknown key 'mirror.folder.other.path'")
                && s.contains("not listed in 'mirror.folders'")), p.toString());
    }

    @Test
    void badGlobsAreReported() throws Exception {
        Files.createDirectories(base.resolve("u"));
        List<String> p = problems(settings("mirror.folders", "u", "mirror.folder.u.path", "u",
                "mirror.folder.u.include", "/abs/*, a/../b", "mirror.folder.u.exclude", "*.[ch], a**b"));
        assertEquals(4, p.size(), p.toString());
        assertTrue(p.get(0).contains("Invalid glob '/abs/*' in 'mirror.folder.u.include'"), p.toString());
        assertTrue(p.get(0).contains("write relative paths with '/'"), p.toString());
        assertTrue(p.get(1).contains("'..' segment"), p.toString());
        assertTrue(p.get(2).contains("not supported"), p.toString());
        assertTrue(p.get(3).contains("whole segment"), p.toString());
    }

    @Test
    void badMaxFileBytesIsReported() throws Exception {
        Files.createDirectories(base.resolve("u"));
        assertOneProblemContaining(problems(settings("mirror.folders", "u", "mirror.folder.u.path", "u",
                "mirror.folder.u.max-file-bytes", "1G")), "Invalid value '1G' for 'mirror.folder.u.max-file-bytes'",
                "whole number");
        assertOneProblemContaining(problems(settings("mirror.folders", "u", "mirror.folder.u.path", "u",
                "mirror.folder.u.max-file-bytes", "-1")), "0 or more");
    }

    @Test
    void overlappingFoldersAreReported() throws Exception {
        Files.createDirectories(base.resolve("a/b"));
        assertOneProblemContaining(problems(settings("mirror.folders", "outer,inner",
                "mirror.folder.outer.path", "a", "mirror.folder.inner.path", "a/b")),
                "Folders 'outer'", "'inner'", "overlap", "its own directory");
        assertOneProblemContaining(problems(settings("mirror.folders", "x,y",
                "mirror.folder.x.path", "a", "mirror.folder.y.path", base.resolve("a/b/..").toString())), "overlap");
    }

    @Test
    void duplicateNameIsReported() throws Exception {
        Files.createDirectories(base.resolve("u"));
        assertOneProblemContaining(problems(settings("mirror.folders", "u,u", "mirror.folder.u.path", "u")),
                "named twice");
    }

    @Test
    void allProblemsInOneException() {
        ConfigException e = assertThrows(ConfigException.class, () -> FolderConfig.from(settings(
                "mirror.folders", "ok,BAD", "mirror.folder.ok.include", "[x]"), base));
        assertEquals(3, e.problems().size(), e.getMessage());
        assertTrue(e.getMessage().startsWith("The mirror configuration has 3 problems:"), e.getMessage());
    }
}
