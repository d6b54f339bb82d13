package org.activemirroring.mirror;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;

import org.junit.jupiter.api.Test;

class AdminCredentialsTest {
    private static final PasswordHash HASH = PasswordHash.create("s3cret:pass".toCharArray(),
            PasswordHash.MIN_ITERATIONS, new SecureRandom());

    private static String basic(String userAndPassword) {
        return "Basic " + Base64.getEncoder().encodeToString(userAndPassword.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void acceptsTheRightUserAndPasswordOnly() {
        AdminCredentials c = new AdminCredentials("admin", HASH);
        assertTrue(c.accepts(basic("admin:s3cret:pass")), "the password may contain ':'");
        assertTrue(c.accepts("basic " + basic("admin:s3cret:pass").substring(6)), "the scheme is case-insensitive");
        assertFalse(c.accepts(basic("admin:wrong")));
        assertFalse(c.accepts(basic("Admin:s3cret:pass")));
        assertFalse(c.accepts(basic("root:s3cret:pass")));
        assertFalse(c.accepts(basic("admin:")));
        assertFalse(c.accepts(basic("admins3cret:pass".replace(":", ""))), "no ':' at all");
    }

    @Test
    void refusesWhatIsNotBasicCredentials() {
        AdminCredentials c = new AdminCredentials("admin", HASH);
        assertFalse(c.accepts(null));
        assertFalse(c.accepts(""));
        assertFalse(c.accepts("Bearer abc"));
        assertFalse(c.accepts("Basic %%%not-base64"));
        assertFalse(c.accepts("Basic " + Base64.getEncoder().encodeToString(new byte[] {'a', ':', (byte) 0xff})),
                "not UTF-8");
        assertEquals(0, c.passwordChecks(), "none of them costs a password check");
    }

    @Test
    void aUserNameOutsideAsciiIsComparedAsUtf8() {
        AdminCredentials c = new AdminCredentials("rené", HASH);
        assertTrue(c.accepts(basic("rené:s3cret:pass")));
    }

    @Test
    void remembersSuccessesNotFailures() {
        AdminCredentials c = new AdminCredentials("admin", HASH);
        String right = basic("admin:s3cret:pass");
        for (int i = 0; i < 5; i++) {
            assertTrue(c.accepts(right));
        }
        assertEquals(1, c.passwordChecks(), "a dashboard polling with the same header costs one PBKDF2 check");

        for (int i = 0; i < 3; i++) {
            assertFalse(c.accepts(basic("admin:guess")));
        }
        assertEquals(4, c.passwordChecks(), "every wrong guess costs the full check");
    }

    @Test
    void theRememberedSetIsBounded() throws Exception {
        PasswordHash hash = PasswordHash.create("pw".toCharArray(), PasswordHash.MIN_ITERATIONS, new SecureRandom());
        AdminCredentials c = new AdminCredentials("admin", hash);
        // Headers that differ but carry the same credentials (what follows "Basic " is trimmed before decoding).
        String first = basic("admin:pw");
        assertTrue(c.accepts(first));
        for (int i = 1; i <= AdminCredentials.REMEMBERED; i++) {
            assertTrue(c.accepts(first + " ".repeat(i)));
        }
        long checks = c.passwordChecks();
        assertTrue(c.accepts(first), "still accepted");
        assertEquals(checks + 1, c.passwordChecks(), "the oldest entry was dropped, so it was checked again");
    }
}
