package org.activemirroring.mirror;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Checks HTTP Basic credentials ({@code Authorization: Basic base64(user:password)}) against
 * {@code mirror.admin.user} and {@code mirror.admin.password-hash}.
 *
 * <p>A PBKDF2 check costs a noticeable slice of CPU on purpose, so a dashboard polling the status
 * every second would burn it on every request: a header that passed is remembered, by the SHA-256
 * of its value (never the password itself), in a small LRU set. A header that failed is not
 * remembered, so every wrong guess costs the full check. The user name is compared in constant time
 * too, and the password is checked even when the name is wrong. Thread-safe.
 */
final class AdminCredentials {
    /** Enough for a few dashboards and admins at once; a larger set only helps stolen headers. */
    static final int REMEMBERED = 16;
    private static final String BASIC = "Basic ";

    private final byte[] user;
    private final PasswordHash hash;
    private final AtomicLong checks = new AtomicLong();
    private final Map<ByteBuffer, Boolean> accepted = new LinkedHashMap<>(REMEMBERED * 2, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<ByteBuffer, Boolean> eldest) {
            return size() > REMEMBERED;
        }
    };

    /** @param user never null; @param hash never null */
    AdminCredentials(String user, PasswordHash hash) {
        this.user = user.getBytes(StandardCharsets.UTF_8);
        this.hash = hash;
    }

    /** True if {@code authorization} (the header's value, null when absent) names the admin with the right password. */
    boolean accepts(String authorization) {
        if (authorization == null || !authorization.regionMatches(true, 0, BASIC, 0, BASIC.length())) {
            return false;
        }
        ByteBuffer key = ByteBuffer.wrap(sha256(authorization));
        synchronized (accepted) {
            if (accepted.get(key) != null) {
                return true;
            }
        }
        byte[] decoded;
        try {
            decoded = Base64.getDecoder().decode(authorization.substring(BASIC.length()).trim());
        } catch (IllegalArgumentException e) {
            return false;
        }
        int colon = indexOf(decoded, (byte) ':');
        if (colon < 0) {
            Arrays.fill(decoded, (byte) 0);
            return false;
        }
        char[] password = utf8(decoded, colon + 1);
        boolean userOk = MessageDigest.isEqual(user, Arrays.copyOf(decoded, colon));
        Arrays.fill(decoded, (byte) 0);
        if (password == null) {
            return false;
        }
        checks.incrementAndGet();
        boolean passwordOk = hash.matches(password);
        Arrays.fill(password, '\0');
        if (userOk && passwordOk) {
            synchronized (accepted) {
                accepted.put(key, Boolean.TRUE);
            }
            return true;
        }
        return false;
    }

    /** How many full password checks ran (for tests of the remembering). */
    long passwordChecks() {
        return checks.get();
    }

    private static int indexOf(byte[] bytes, byte b) {
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == b) {
                return i;
            }
        }
        return -1;
    }

    /** The bytes from {@code from} on as UTF-8 (the charset the challenge announces); null if they are not. */
    private static char[] utf8(byte[] bytes, int from) {
        try {
            CharBuffer chars = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes, from, bytes.length - from));
            char[] out = new char[chars.remaining()];
            chars.get(out);
            Arrays.fill(chars.array(), '\0');
            return out;
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    private static byte[] sha256(String value) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("This Java runtime has no SHA-256; run Tomcat on a standard JDK", e);
        }
    }
}
