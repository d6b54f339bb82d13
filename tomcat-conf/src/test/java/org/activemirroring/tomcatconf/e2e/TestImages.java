package org.activemirroring.tomcatconf.e2e;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

import javax.imageio.ImageIO;

/** Real, small PNG and JPEG images, different for every {@code seed}, as a visitor would upload. */
final class TestImages {
    private TestImages() {
    }

    /** An uploaded image: its bytes, file name and content type. */
    record Image(byte[] bytes, String fileName, String contentType) {
    }

    /** A PNG for even seeds, a JPEG for odd ones. */
    static Image forSeed(int seed) {
        return seed % 2 == 0 ? png(seed) : jpeg(seed);
    }

    static Image png(int seed) {
        return new Image(encode(picture(seed, BufferedImage.TYPE_INT_ARGB), "png"), "item-" + seed + ".png", "image/png");
    }

    static Image jpeg(int seed) {
        return new Image(encode(picture(seed, BufferedImage.TYPE_INT_RGB), "jpg"), "item-" + seed + ".jpg", "image/jpeg");
    }

    /** A 24x16 checkerboard whose colours and pattern come from the seed. */
    private static BufferedImage picture(int seed, int type) {
        BufferedImage img = new BufferedImage(24, 16, type);
        Color a = new Color(Color.HSBtoRGB((seed * 0.137f) % 1f, 0.8f, 0.9f));
        Color b = new Color((seed * 2_654_435_761L & 0xFFFFFFL) > 0 ? (int) (seed * 2_654_435_761L & 0xFFFFFF) : 0x336699);
        for (int x = 0; x < img.getWidth(); x++) {
            for (int y = 0; y < img.getHeight(); y++) {
                img.setRGB(x, y, ((x / 2 + y / 2 + seed) % 3 == 0 ? a : b).getRGB());
            }
        }
        return img;
    }

    private static byte[] encode(BufferedImage img, String format) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            if (!ImageIO.write(img, format, out)) {
                throw new IllegalStateException("No ImageIO writer for " + format);
            }
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
