package org.activemirroring.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * One configuration option: key, type, default, documentation and check in one place, so that the
 * option tables in the README, the defaults and the validation cannot drift apart.
 *
 * <p>Keys are dotted lowercase. Every option can also be set from the environment: the key in
 * upper case with dots and dashes replaced by underscores ({@code mirror.node.id} becomes
 * {@code MIRROR_NODE_ID}).
 *
 * @param <T> the parsed type; never null for an option that has a default or is required
 */
public final class ConfigOption<T> {
    private final String key;
    private final String typeName;
    private final T defaultValue;
    private final boolean required;
    private final Importance importance;
    private final String doc;
    private final Function<String, T> parser;
    private final Predicate<T> check;
    private final String rule;

    private ConfigOption(String key, String typeName, T defaultValue, boolean required, Importance importance,
                         String doc, Function<String, T> parser, Predicate<T> check, String rule) {
        this.key = Objects.requireNonNull(key);
        this.typeName = typeName;
        this.defaultValue = defaultValue;
        this.required = required;
        this.importance = importance;
        this.doc = Objects.requireNonNull(doc);
        this.parser = parser;
        this.check = check;
        this.rule = rule;
    }

    /** A free-text option; {@code defaultValue} null means "not set" (optional, no default). */
    public static ConfigOption<String> string(String key, String defaultValue, Importance importance, String doc) {
        return new ConfigOption<>(key, "string", defaultValue, false, importance, doc, s -> s, v -> true, null);
    }

    /** An integer option in [min, max]. */
    public static ConfigOption<Integer> integer(String key, int defaultValue, int min, int max,
                                                Importance importance, String doc) {
        return new ConfigOption<>(key, "integer", defaultValue, false, importance, doc, s -> {
            try {
                return Integer.valueOf(s.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("it is not a whole number");
            }
        }, v -> v >= min && v <= max, "it must be between " + min + " and " + max);
    }

    /** A long option in [min, max]. */
    public static ConfigOption<Long> longValue(String key, long defaultValue, long min, long max,
                                               Importance importance, String doc) {
        return new ConfigOption<>(key, "long", defaultValue, false, importance, doc, s -> {
            try {
                return Long.valueOf(s.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("it is not a whole number");
            }
        }, v -> v >= min && v <= max, "it must be between " + min + " and " + max);
    }

    /** A boolean option: exactly {@code true} or {@code false}, nothing else is guessed at. */
    public static ConfigOption<Boolean> bool(String key, boolean defaultValue, Importance importance, String doc) {
        return new ConfigOption<>(key, "boolean", defaultValue, false, importance, doc, s -> {
            String t = s.trim().toLowerCase(Locale.ROOT);
            if (t.equals("true")) {
                return Boolean.TRUE;
            }
            if (t.equals("false")) {
                return Boolean.FALSE;
            }
            throw new IllegalArgumentException("it must be true or false");
        }, v -> true, null);
    }

    /** The same option, now required: a missing value is a problem. */
    public ConfigOption<T> required() {
        return new ConfigOption<>(key, typeName, null, true, importance, doc, parser, check, rule);
    }

    /**
     * The same option with an extra check. {@code rule} says what a valid value looks like and
     * what to do, e.g. "ids are [a-z0-9-]; give each mirror its own id".
     */
    public ConfigOption<T> check(Predicate<T> ok, String rule) {
        Predicate<T> both = v -> check.test(v) && ok.test(v);
        String rules = this.rule == null ? rule : this.rule + "; " + rule;
        return new ConfigOption<>(key, typeName, defaultValue, required, importance, doc, parser, both, rules);
    }

    public String key() {
        return key;
    }

    public String typeName() {
        return typeName;
    }

    /** Null when the option has no default. */
    public T defaultValue() {
        return defaultValue;
    }

    public boolean isRequired() {
        return required;
    }

    public Importance importance() {
        return importance;
    }

    public String doc() {
        return doc;
    }

    /** The environment variable that overrides this option. */
    public String envName() {
        return key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    /**
     * Reads this option from raw settings. A problem (missing, unparsable, failing its check) is
     * added to {@code problems} and the default is returned, so that all options get checked.
     */
    public T read(Map<String, String> raw, List<String> problems) {
        String value = raw.get(key);
        if (value == null || value.isBlank()) {
            if (required) {
                problems.add("Missing '" + key + "': " + doc + " Set it in mirror.properties or in the environment as "
                        + envName() + ".");
            }
            return defaultValue;
        }
        T parsed;
        try {
            parsed = parser.apply(value);
        } catch (IllegalArgumentException e) {
            problems.add(invalid(value, e.getMessage()));
            return defaultValue;
        }
        if (!check.test(parsed)) {
            problems.add(invalid(value, rule));
            return defaultValue;
        }
        return parsed;
    }

    /** Splits a comma-separated option value into its trimmed, non-blank parts; null gives an empty list. */
    public static List<String> splitCommaList(String value) {
        List<String> out = new ArrayList<>();
        if (value != null) {
            for (String part : value.split(",")) {
                if (!part.isBlank()) {
                    out.add(part.trim());
                }
            }
        }
        return out;
    }

    private String invalid(String value, String why) {
        return "Invalid value '" + value + "' for '" + key + "': " + why + ".";
    }

    @Override
    public String toString() {
        return key;
    }
}
