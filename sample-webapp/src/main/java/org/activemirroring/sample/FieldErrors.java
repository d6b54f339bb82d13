package org.activemirroring.sample;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What is wrong with a submitted form, field by field, in words for the person who filled it in.
 * Empty means the form is fine. Not thread-safe: one per request.
 */
public final class FieldErrors {
    private final Map<String, String> byField = new LinkedHashMap<>();

    /** Records {@code message} for {@code field}, unless the field already has one. */
    public FieldErrors add(String field, String message) {
        byField.putIfAbsent(field, message);
        return this;
    }

    /**
     * Checks a text field: required (non-blank) when {@code required}, and at most {@code max}
     * characters. {@code label} is the field's name as the form shows it.
     */
    public FieldErrors text(String field, String label, String value, boolean required, int max) {
        String v = value == null ? "" : value.strip();
        if (required && v.isEmpty()) {
            return add(field, label + " is required.");
        }
        if (v.length() > max) {
            return add(field, label + " is too long: " + v.length() + " characters, at most " + max + ".");
        }
        return this;
    }

    public boolean isEmpty() {
        return byField.isEmpty();
    }

    /** Field to message, in the order found; for the templates. */
    public Map<String, String> asMap() {
        return Collections.unmodifiableMap(byField);
    }

    @Override
    public String toString() {
        return byField.toString();
    }
}
