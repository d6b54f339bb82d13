package org.activemirroring.sample.account;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.SecureRandom;

import org.junit.jupiter.api.Test;

class PasswordHasherTest {
    private final PasswordHasher hasher = new PasswordHasher(1_000, new SecureRandom());

    @Test
    void aHashVerifiesItsPasswordAndNoOther() {
        String h = hasher.hash("correct horse");
        assertTrue(hasher.verify("correct horse", h));
        assertFalse(hasher.verify("correct horsE", h));
        assertFalse(hasher.verify("", h));
    }

    @Test
    void eachHashHasItsOwnSaltAndNamesItsIterations() {
        String a = hasher.hash("same");
        String b = hasher.hash("same");
        assertNotEquals(a, b, "a salt per password");
        String[] parts = a.split("\\$");
        assertEquals(4, parts.length, a);
        assertEquals("pbkdf2-sha256", parts[0]);
        assertEquals("1000", parts[1]);
        assertTrue(new PasswordHasher(2_000, new SecureRandom()).verify("same", a), "old iteration counts still verify");
    }

    @Test
    void somethingThatIsNotAHashNeverMatches() {
        for (String bad : new String[] {null, "", "plain", "pbkdf2-sha256$x$y$z", "md5$1000$AA$AA",
                "pbkdf2-sha256$0$AA$AA", "pbkdf2-sha256$1000$!!$AA"}) {
            assertFalse(hasher.verify("plain", bad), String.valueOf(bad));
        }
    }

    @Test
    void tooFewIterationsAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new PasswordHasher(10, new SecureRandom()));
        assertTrue(e.getMessage().contains("10"), e.getMessage());
    }
}
