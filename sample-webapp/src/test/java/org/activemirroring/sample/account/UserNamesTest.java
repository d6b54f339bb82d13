package org.activemirroring.sample.account;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;

import org.junit.jupiter.api.Test;

class UserNamesTest {
    @Test
    void namesAreNormalizedAndChecked() {
        assertEquals("mara_k", UserNames.normalize("  Mara_K "));
        assertTrue(UserNames.problem("mara").isEmpty());
        assertTrue(UserNames.problem("").get().contains("choose"));
        assertTrue(UserNames.problem("ab").get().contains("3 to 30"));
        assertTrue(UserNames.problem("a".repeat(31)).get().contains("has 31"));
        assertTrue(UserNames.problem("mara k").get().contains("'mara k'"));
        assertTrue(UserNames.problem("-mara").isPresent());
    }

    @Test
    void theFirstFreeSuffixIsTaken() {
        Set<String> taken = new HashSet<>(Set.of("mara", "mara-2", "mara-3"));
        assertEquals("mara-4", UserNames.freeName("mara", taken::contains));
        assertEquals("anna-2", UserNames.freeName("anna", Set.of("anna")::contains));
    }

    @Test
    void aLongNameIsShortenedToFitItsSuffix() {
        String longName = "a".repeat(30);
        String free = UserNames.freeName(longName, Set.of(longName)::contains);
        assertEquals("a".repeat(28) + "-2", free);
        assertTrue(UserNames.problem(free).isEmpty());
        Set<String> taken = new HashSet<>();
        for (int i = 2; i <= 9; i++) {
            taken.add("a".repeat(28) + "-" + i);
        }
        assertEquals("a".repeat(27) + "-10", UserNames.freeName(longName, taken::contains));
    }

    @Test
    void givesUpWithAMessageWhenEverySuffixIsTaken() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> UserNames.freeName("mara", n -> true));
        assertTrue(e.getMessage().contains("mara") && e.getMessage().contains("by hand"), e.getMessage());
    }
}
