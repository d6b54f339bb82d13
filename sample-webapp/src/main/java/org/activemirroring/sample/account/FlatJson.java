package org.activemirroring.sample.account;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads a flat JSON object (name to string, number, boolean or null), the form in which the mirror
 * hands over a lost row ({@code {"id":"7","user_name":"mara",...}}). Values come back as text,
 * JSON null as Java null. Nested objects and arrays are refused: no column of the account table
 * holds one. A small reader of its own keeps the site free of a JSON library that the plugin's
 * jars would otherwise have to share with it.
 */
final class FlatJson {
    private final String text;
    private int pos;

    private FlatJson(String text) {
        this.text = text;
    }

    /**
     * @throws IllegalArgumentException with the offending position when {@code json} is not a flat object
     */
    static Map<String, String> parseObject(String json) {
        if (json == null) {
            throw new IllegalArgumentException("No JSON object: the text is null");
        }
        FlatJson p = new FlatJson(json);
        Map<String, String> out = p.object();
        p.skipSpace();
        if (p.pos != json.length()) {
            throw p.error("text after the object");
        }
        return out;
    }

    private Map<String, String> object() {
        skipSpace();
        expect('{');
        Map<String, String> out = new LinkedHashMap<>();
        skipSpace();
        if (peek() == '}') {
            pos++;
            return out;
        }
        while (true) {
            skipSpace();
            String name = string();
            skipSpace();
            expect(':');
            skipSpace();
            out.put(name, value());
            skipSpace();
            char c = next();
            if (c == '}') {
                return out;
            }
            if (c != ',') {
                pos--;
                throw error("',' or '}' expected");
            }
        }
    }

    private String value() {
        char c = peek();
        if (c == '"') {
            return string();
        }
        if (c == '{' || c == '[') {
            throw error("a nested object or array, where a flat row value was expected");
        }
        int start = pos;
        while (pos < text.length() && ",}] \t\r\n".indexOf(text.charAt(pos)) < 0) {
            pos++;
        }
        String word = text.substring(start, pos);
        if (word.equals("null")) {
            return null;
        }
        if (word.equals("true") || word.equals("false") || word.matches("-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?")) {
            return word;
        }
        pos = start;
        throw error("a value expected");
    }

    private String string() {
        expect('"');
        StringBuilder b = new StringBuilder();
        while (true) {
            char c = next();
            if (c == '"') {
                return b.toString();
            }
            if (c < 0x20) {
                pos--;
                throw error("a control character inside a string");
            }
            if (c != '\\') {
                b.append(c);
                continue;
            }
            char e = next();
            switch (e) {
                case '"', '\\', '/' -> b.append(e);
                case 'b' -> b.append('\b');
                case 'f' -> b.append('\f');
                case 'n' -> b.append('\n');
                case 'r' -> b.append('\r');
                case 't' -> b.append('\t');
                case 'u' -> {
                    if (pos + 4 > text.length()) {
                        throw error("a short \\u escape");
                    }
                    try {
                        b.append((char) Integer.parseInt(text.substring(pos, pos + 4), 16));
                    } catch (NumberFormatException ex) {
                        throw error("a bad \\u escape");
                    }
                    pos += 4;
                }
                default -> {
                    pos--;
                    throw error("an unknown escape \\" + e);
                }
            }
        }
    }

    private void skipSpace() {
        while (pos < text.length() && " \t\r\n".indexOf(text.charAt(pos)) >= 0) {
            pos++;
        }
    }

    private char peek() {
        if (pos >= text.length()) {
            throw error("the text ends early");
        }
        return text.charAt(pos);
    }

    private char next() {
        char c = peek();
        pos++;
        return c;
    }

    private void expect(char c) {
        if (peek() != c) {
            throw error("'" + c + "' expected");
        }
        pos++;
    }

    private IllegalArgumentException error(String what) {
        // The text itself stays out of the message: a lost account row holds a password hash.
        return new IllegalArgumentException("Not a flat JSON object at character " + pos + " of " + text.length()
                + " (" + what + ")");
    }
}
