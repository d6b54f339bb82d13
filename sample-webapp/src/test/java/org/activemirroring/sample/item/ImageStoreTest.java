package org.activemirroring.sample.item;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageStoreTest {
    @TempDir
    Path dir;

    @Test
    void storesUnderItemsIdRandomNameAndLeavesNoTempFile() throws Exception {
        ImageStore store = new ImageStore(dir, new SecureRandom());
        byte[] content = {1, 2, 3, 4};
        String path = store.store(42, ImageType.PNG, new ByteArrayInputStream(content));
        assertTrue(path.matches("items/42/[0-9a-f]{32}\\.png"), path);
        assertTrue(ImageStore.isValidPath(path));
        assertArrayEquals(content, Files.readAllBytes(store.local(path).orElseThrow()));
        assertEquals(List.of(dir.resolve(path)), files());
        String other = store.store(42, ImageType.PNG, new ByteArrayInputStream(content));
        assertFalse(other.equals(path), "names are never reused");
        store.delete(path);
        assertTrue(store.local(path).isEmpty());
    }

    @Test
    void aTooLargeImageLeavesNothingBehind() throws Exception {
        ImageStore store = new ImageStore(dir, new SecureRandom());
        InputStream big = new InputStream() {
            long left = ImageStore.MAX_BYTES + 1;

            @Override
            public int read() {
                return left-- > 0 ? 0 : -1;
            }
        };
        ImageStore.ImageTooLargeException e = assertThrows(ImageStore.ImageTooLargeException.class,
                () -> store.store(7, ImageType.GIF, big));
        assertTrue(e.getMessage().contains("5 MiB"), e.getMessage());
        assertEquals(List.of(), files());
    }

    @Test
    void onlyPathsItMakesAreValid() {
        for (String bad : new String[] {null, "", "../etc/passwd", "items/1/../../x.png", "items/0/"
                + "a".repeat(32) + ".png", "items/1/" + "A".repeat(32) + ".png", "items/1/" + "a".repeat(32) + ".svg",
                "/items/1/" + "a".repeat(32) + ".png", "items/1/.am-tmp-upload-" + "a".repeat(32)}) {
            assertFalse(ImageStore.isValidPath(bad), String.valueOf(bad));
        }
        assertTrue(new ImageStore(dir, new SecureRandom()).local("items/1/../../x.png").isEmpty());
    }

    private List<Path> files() throws Exception {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).toList();
        }
    }
}
