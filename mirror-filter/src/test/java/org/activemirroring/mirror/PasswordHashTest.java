package org.activemirroring.mirror;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;

import org.junit.jupiter.api.Test;

class PasswordHashTest {
    /** The cheapest count the format accepts, so the tests stay fast; one test uses the default. */
    private static final int FAST = PasswordHash.MIN_ITERATIONS;
    private static final SecureRandom RANDOM = new SecureRandom();

    @Test
    void aHashMatchesItsPasswordAndNoOther() {
        PasswordHash hash = PasswordHash.create("correct horse".toCharArray(), FAST, RANDOM);
        assertTrue(hash.matches("correct horse".toCharArray()));
        assertFalse(hash.matches("correct horse ".toCharArray()));
        assertFalse(hash.matches("Correct horse".toCharArray()));
        assertFalse(hash.matches(new char[0]));
    }

    @Test
    void theWrittenFormReadsBackAndStillMatches() {
        PasswordHash hash = PasswordHash.create("pässwörd:with$signs".toCharArray(), FAST, RANDOM);
        String encoded = hash.encoded();
        assertTrue(encoded.matches("pbkdf2-sha256\\$100000\\$[A-Za-z0-9+/]{22}\\$[A-Za-z0-9+/]{43}"), encoded);
        PasswordHash read = PasswordHash.parse(encoded);
        assertEquals(hash, read);
        assertTrue(read.matches("pässwörd:with$signs".toCharArray()));
        assertFalse(read.toString().contains(encoded.split("\\$")[3]), "toString shows no hash: " + read);
    }

    @Test
    void theDefaultFollowsOwaspAndEachHashHasItsOwnSalt() {
        PasswordHash one = PasswordHash.create("same".toCharArray(), PasswordHash.DEFAULT_ITERATIONS, RANDOM);
        PasswordHash two = PasswordHash.create("same".toCharArray(), PasswordHash.DEFAULT_ITERATIONS, RANDOM);
        assertEquals(600_000, one.iterations());
        assertNotEquals(one.encoded(), two.encoded());
        assertTrue(two.matches("same".toCharArray()));
    }

    @Test
    void anEmptyPasswordIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> PasswordHash.create(new char[0], FAST, RANDOM));
    }

    @Test
    void malformedHashesAreRefusedWithoutRepeatingTheValue() {
        String salt = Base64.getEncoder().encodeToString(new byte[16]);
        String hash = Base64.getEncoder().encodeToString(new byte[32]);
        Map<String, String> bad = Map.of(
                "hunter2", "of the form",
                "", "of the form",
                "pbkdf2-sha1$600000$" + salt + "$" + hash, "of the form",
                "pbkdf2-sha256$600000$" + salt, "of the form",
                "pbkdf2-sha256$many$" + salt + "$" + hash, "not a whole number",
                "pbkdf2-sha256$1000$" + salt + "$" + hash, "between 100000 and 10000000",
                "pbkdf2-sha256$600000$not*base64$" + hash, "salt is not Base64",
                "pbkdf2-sha256$600000$" + Base64.getEncoder().encodeToString(new byte[4]) + "$" + hash, "salt is shorter",
                "pbkdf2-sha256$600000$" + salt + "$" + salt, "hash is not 32 bytes",
                "pbkdf2-sha256$600000$$" + hash, "salt is empty");
        bad.forEach((value, expected) -> {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PasswordHash.parse(value),
                    value);
            assertTrue(e.getMessage().contains(expected), value + ": " + e.getMessage());
            if (!value.isEmpty()) {
                assertFalse(e.getMessage().contains(value), "the message repeats the value: " + e.getMessage());
            }
        });
    }
}
