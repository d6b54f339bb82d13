package org.activemirroring.mirror;

import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.activemirroring.config.ConfigOption;

/**
 * The configuration a mirror runs with, as one text for the log at start: every option with its
 * value (the default where none is set), then every other setting given, with secrets masked. A
 * secret is an option whose key names a password, secret, key, hash, token or credential, and a
 * {@code password=} or {@code secret=} inside a value (a JDBC URL's parameters): its value shows as
 * {@value #MASK}, so the log never holds it.
 */
final class EffectiveConfig {
    static final String MASK = "****";
    private static final Pattern SECRET_KEY = Pattern.compile(
            "(?i).*(password|passwd|secret|key|hash|token|credential|passphrase).*");
    private static final Pattern SECRET_IN_VALUE = Pattern.compile(
            "(?i)((?:password|passwd|secret|token)[^=&;:/]*=)[^&;]*");

    private EffectiveConfig() {
    }

    /** Whether the value of {@code key} is a secret. */
    static boolean isSecret(String key) {
        return SECRET_KEY.matcher(key).matches();
    }

    /** {@code value} as it may be shown for {@code key}. */
    static String shown(String key, String value) {
        if (value == null) {
            return "(unset)";
        }
        if (isSecret(key)) {
            return value.isEmpty() ? "(empty)" : MASK;
        }
        Matcher m = SECRET_IN_VALUE.matcher(value);
        return m.find() ? m.replaceAll("$1" + MASK) : value;
    }

    /** One line per setting, options in documentation order, then other given settings sorted. */
    static String describe(MirrorConfig config) {
        Map<String, String> raw = config.raw();
        StringBuilder sb = new StringBuilder();
        for (ConfigOption<?> option : MirrorConfig.ALL_OPTIONS) {
            String given = raw.get(option.key());
            String value = given != null ? given
                    : option.defaultValue() == null ? null : String.valueOf(option.defaultValue());
            sb.append("\n  ").append(option.key()).append(" = ").append(shown(option.key(), value))
                    .append(given == null ? " (default)" : "");
        }
        Map<String, String> others = new TreeMap<>(raw);
        MirrorConfig.ALL_OPTIONS.forEach(o -> others.remove(o.key()));
        others.forEach((k, v) -> sb.append("\n  ").append(k).append(" = ").append(shown(k, v)));
        return sb.toString();
    }
}
