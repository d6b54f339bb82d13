package org.activemirroring.sample.item;

import java.util.Arrays;
import java.util.Optional;

/**
 * The image formats the archive accepts, recognised by their first bytes (never by the file name
 * or the browser's content type, which the uploader controls).
 */
public enum ImageType {
    PNG("png", "image/png"),
    JPEG("jpg", "image/jpeg"),
    GIF("gif", "image/gif"),
    WEBP("webp", "image/webp");

    /** How many leading bytes {@link #sniff} needs at most. */
    public static final int SNIFF_BYTES = 12;

    private static final byte[] PNG_MAGIC = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    private static final byte[] JPEG_MAGIC = {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF};
    private static final byte[] GIF87 = {'G', 'I', 'F', '8', '7', 'a'};
    private static final byte[] GIF89 = {'G', 'I', 'F', '8', '9', 'a'};
    private static final byte[] RIFF = {'R', 'I', 'F', 'F'};
    private static final byte[] WEBP_TAG = {'W', 'E', 'B', 'P'};

    private final String extension;
    private final String contentType;

    ImageType(String extension, String contentType) {
        this.extension = extension;
        this.contentType = contentType;
    }

    /** The file name extension the archive stores it under, without the dot. */
    public String extension() {
        return extension;
    }

    /** Its HTTP {@code Content-Type}. */
    public String contentType() {
        return contentType;
    }

    /** The type whose signature {@code head} (the file's first bytes) starts with, if any. */
    public static Optional<ImageType> sniff(byte[] head) {
        if (startsWith(head, PNG_MAGIC, 0)) {
            return Optional.of(PNG);
        }
        if (startsWith(head, JPEG_MAGIC, 0)) {
            return Optional.of(JPEG);
        }
        if (startsWith(head, GIF87, 0) || startsWith(head, GIF89, 0)) {
            return Optional.of(GIF);
        }
        if (startsWith(head, RIFF, 0) && startsWith(head, WEBP_TAG, 8)) {
            return Optional.of(WEBP);
        }
        return Optional.empty();
    }

    /** The type stored under {@code extension} (as {@link #extension()} gives it), if any. */
    public static Optional<ImageType> ofExtension(String extension) {
        return Arrays.stream(values()).filter(t -> t.extension.equals(extension)).findFirst();
    }

    private static boolean startsWith(byte[] data, byte[] prefix, int at) {
        if (data.length < at + prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (data[at + i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }
}
