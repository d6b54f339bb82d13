package org.activemirroring.sample.account;

import java.util.Locale;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * What a user name may be, and finding a free one for an account restored after its name was
 * taken on another mirror at the same moment: {@code name-2}, {@code name-3}, ... The rules are
 * plain (lower-case letters, digits, {@code _} and {@code -}, 3 to 30 characters), so names need
 * no case folding in the database and a plain unique constraint decides between mirrors.
 */
public final class UserNames {
    /** Longest user name. */
    public static final int MAX_LENGTH = 30;
    /** Shortest user name. */
    public static final int MIN_LENGTH = 3;
    /** How many suffixes {@link #freeName} tries before it gives up. */
    static final int MAX_TRIES = 1000;
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9_-]{" + (MIN_LENGTH - 1) + "," + (MAX_LENGTH - 1) + "}");

    private UserNames() {
    }

    /** The name as stored: trimmed and lower-cased. */
    public static String normalize(String raw) {
        return raw == null ? "" : raw.trim().toLowerCase(Locale.ROOT);
    }

    /** Why {@code name} (already normalized) cannot be a user name, or empty when it can. */
    public static Optional<String> problem(String name) {
        if (name.isEmpty()) {
            return Optional.of("Please choose a user name.");
        }
        if (name.length() < MIN_LENGTH || name.length() > MAX_LENGTH) {
            return Optional.of("A user name has " + MIN_LENGTH + " to " + MAX_LENGTH + " characters; '" + name
                    + "' has " + name.length() + ".");
        }
        if (!NAME.matcher(name).matches()) {
            return Optional.of("A user name may hold only letters a-z, digits, '_' and '-', and starts with a letter"
                    + " or digit; '" + name + "' does not.");
        }
        return Optional.empty();
    }

    /**
     * The first of {@code original-2}, {@code original-3}, ... that {@code taken} says is free,
     * the original shortened where needed so that the result is a valid name.
     *
     * @throws IllegalStateException when the first {@value #MAX_TRIES} are all taken
     */
    public static String freeName(String original, Predicate<String> taken) {
        String base = normalize(original);
        if (base.isEmpty()) {
            base = "user";
        }
        for (int n = 2; n < MAX_TRIES + 2; n++) {
            String suffix = "-" + n;
            String stem = base.length() + suffix.length() > MAX_LENGTH
                    ? base.substring(0, MAX_LENGTH - suffix.length()) : base;
            String candidate = stem + suffix;
            if (problem(candidate).isEmpty() && !taken.test(candidate)) {
                return candidate;
            }
        }
        throw new IllegalStateException("No free user name for the restored account '" + original + "': "
                + original + "-2 to -" + (MAX_TRIES + 1) + " are all taken; rename it by hand in the account table");
    }
}
