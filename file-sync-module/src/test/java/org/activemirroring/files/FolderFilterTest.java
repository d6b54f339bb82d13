package org.activemirroring.files;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

class FolderFilterTest {

    private static FolderFilter filter(List<String> include, List<String> exclude) {
        List<String> problems = new ArrayList<>();
        FolderFilter f = FolderFilter.of(include, exclude, "inc", "exc", problems);
        assertTrue(problems.isEmpty(), problems.toString());
        return f;
    }

    @Test
    void emptyIncludesEverything() {
        assertTrue(FolderFilter.ALL.includes("a/b/c"));
        assertTrue(filter(List.of(), List.of()).includes("x"));
    }

    @Test
    void starStaysInOneNameDoubleStarCrossesDirectories() {
        FolderFilter f = filter(List.of("img/*.png", "docs/**/*.pdf"), List.of());
        assertTrue(f.includes("img/a.png"));
        assertFalse(f.includes("img/sub/a.png"));
        assertTrue(f.includes("docs/a.pdf"));
        assertTrue(f.includes("docs/x/y/a.pdf"));
        assertFalse(f.includes("other/a.pdf"));
    }

    @Test
    void globWithoutSlashMatchesAnyDepthAndQuestionMarkOneChar() {
        FolderFilter f = filter(List.of(), List.of("*.tm?", "thumbs"));
        assertFalse(f.includes("a.tmp"));
        assertFalse(f.includes("a/b/c.tmx"));
        assertTrue(f.includes("a/b/c.tm"));
        assertFalse(f.includes("x/thumbs/a.png"));
        assertTrue(f.excludesDirectory("x/thumbs"));
        assertFalse(f.excludesDirectory("x/thumbsup"));
    }

    @Test
    void regexCharactersAreLiteral() {
        FolderFilter f = filter(List.of("a+b(1).txt"), List.of());
        assertTrue(f.includes("a+b(1).txt"));
        assertFalse(f.includes("aab1.txt"));
    }
}
