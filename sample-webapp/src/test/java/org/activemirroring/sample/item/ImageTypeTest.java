package org.activemirroring.sample.item;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Optional;

import org.junit.jupiter.api.Test;

class ImageTypeTest {
    private static byte[] bytes(int... b) {
        byte[] out = new byte[b.length];
        for (int i = 0; i < b.length; i++) {
            out[i] = (byte) b[i];
        }
        return out;
    }

    @Test
    void recognisesEachFormatByItsFirstBytes() {
        assertEquals(Optional.of(ImageType.PNG), ImageType.sniff(bytes(0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0)));
        assertEquals(Optional.of(ImageType.JPEG), ImageType.sniff(bytes(0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10)));
        assertEquals(Optional.of(ImageType.GIF), ImageType.sniff("GIF89a....".getBytes(StandardCharsets.US_ASCII)));
        assertEquals(Optional.of(ImageType.GIF), ImageType.sniff("GIF87a".getBytes(StandardCharsets.US_ASCII)));
        assertEquals(Optional.of(ImageType.WEBP), ImageType.sniff("RIFF\0\0\0\0WEBPVP8 ".getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    void refusesEverythingElseAndShortHeads() {
        for (String s : new String[] {"", "GIF8", "<svg xmlns=", "RIFF\0\0\0\0WAVE", "%PDF-1.7", "PK\3\4", "\u0089PNG"}) {
            assertTrue(ImageType.sniff(s.getBytes(StandardCharsets.ISO_8859_1)).isEmpty(), s);
        }
        assertTrue(ImageType.sniff(bytes(0xFF, 0xD8)).isEmpty());
    }

    @Test
    void extensionsAndContentTypes() {
        assertEquals("image/webp", ImageType.ofExtension("webp").orElseThrow().contentType());
        assertEquals("jpg", ImageType.JPEG.extension());
        assertTrue(ImageType.ofExtension("svg").isEmpty());
    }
}
