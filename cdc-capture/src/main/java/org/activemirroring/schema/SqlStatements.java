package org.activemirroring.schema;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Splits SQL text as a PostgreSQL client sent it into its statements, and tells schema changes
 * from the rest. A recorded schema change is the whole query string of its client (psql sends
 * {@code BEGIN; CREATE TABLE ...; INSERT ...; COMMIT} as one), and a replay must run its schema
 * changes only: the rows travel as row changes, and transaction control belongs to the applier.
 *
 * <p>Knows what can hide a semicolon: quoted strings ({@code '...'} with {@code ''}, {@code E'...'}
 * with backslash escapes), quoted identifiers, dollar quoting ({@code $tag$...$tag$}), line and
 * nested block comments. Stateless.
 */
public final class SqlStatements {
    private SqlStatements() {
    }

    /** The statements of {@code sql}, trimmed, without empty ones and without their comments' leading whitespace. */
    public static List<String> split(String sql) {
        List<String> out = new ArrayList<>();
        int start = 0;
        int i = 0;
        int n = sql.length();
        while (i < n) {
            char ch = sql.charAt(i);
            if (ch == '\'') {
                boolean escapes = i > 0 && (sql.charAt(i - 1) == 'E' || sql.charAt(i - 1) == 'e')
                        && (i < 2 || !Character.isLetterOrDigit(sql.charAt(i - 2)));
                i = endOfQuoted(sql, i, '\'', escapes);
            } else if (ch == '"') {
                i = endOfQuoted(sql, i, '"', false);
            } else if (ch == '-' && i + 1 < n && sql.charAt(i + 1) == '-') {
                int nl = sql.indexOf('\n', i);
                i = nl < 0 ? n : nl + 1;
            } else if (ch == '/' && i + 1 < n && sql.charAt(i + 1) == '*') {
                i = endOfBlockComment(sql, i);
            } else if (ch == '$' && (i == 0 || !Character.isLetterOrDigit(sql.charAt(i - 1)) && sql.charAt(i - 1) != '_')) {
                int close = sql.indexOf('$', i + 1);
                String tag = close < 0 ? null : sql.substring(i, close + 1);
                if (tag != null && tag.substring(1, tag.length() - 1).chars().allMatch(c -> Character.isLetterOrDigit(c) || c == '_')
                        && (tag.length() == 2 || !Character.isDigit(tag.charAt(1)))) {
                    int end = sql.indexOf(tag, close + 1);
                    i = end < 0 ? n : end + tag.length();
                } else {
                    i++;
                }
            } else if (ch == ';') {
                add(out, sql.substring(start, i));
                start = ++i;
            } else {
                i++;
            }
        }
        add(out, sql.substring(start));
        return out;
    }

    /**
     * Whether a statement is a schema change a replay runs: it begins with CREATE, ALTER, DROP,
     * COMMENT, GRANT, REVOKE, SECURITY LABEL or IMPORT FOREIGN SCHEMA, and is not about
     * publications, subscriptions or sequence settings, also those of identity columns (each
     * mirror keeps those itself).
     */
    public static boolean isSchemaChange(String statement) {
        String s = withoutLeadingComments(statement).toUpperCase(Locale.ROOT).replaceAll("\\s+", " ");
        if (s.contains(" PUBLICATION ") || s.contains(" SUBSCRIPTION ") || s.startsWith("ALTER SEQUENCE ")
                || identitySequenceSettingsOnly(s)) {
            return false;
        }
        for (String start : List.of("CREATE ", "ALTER ", "DROP ", "COMMENT ", "GRANT ", "REVOKE ", "SECURITY LABEL ",
                "IMPORT FOREIGN SCHEMA ")) {
            if (s.startsWith(start)) {
                return true;
            }
        }
        return false;
    }

    /** One action of ALTER TABLE that only sets an identity column's sequence (start, step, limits). */
    private static final java.util.regex.Pattern IDENTITY_SETTING = java.util.regex.Pattern.compile(
            "ALTER (COLUMN )?(\\S+|\"[^\"]*\") (RESTART|SET (INCREMENT|START|MINVALUE|MAXVALUE|NO MINVALUE|NO MAXVALUE|CACHE"
                    + "|CYCLE|NO CYCLE))\\b.*");

    /**
     * Whether an (upper-cased, single-spaced) statement is an ALTER TABLE whose every action only
     * sets an identity column's sequence: a reset like {@code ALTER SEQUENCE}, each mirror's own.
     */
    private static boolean identitySequenceSettingsOnly(String s) {
        if (!s.startsWith("ALTER TABLE ")) {
            return false;
        }
        int first = s.indexOf(" ALTER ", "ALTER TABLE ".length());
        if (first < 0) {
            return false;
        }
        for (String action : s.substring(first + 1).split(",")) {
            if (!IDENTITY_SETTING.matcher(action.strip()).matches()) {
                return false;
            }
        }
        return true;
    }

    private static String withoutLeadingComments(String statement) {
        String s = statement.strip();
        while (true) {
            if (s.startsWith("--")) {
                int nl = s.indexOf('\n');
                s = nl < 0 ? "" : s.substring(nl + 1).strip();
            } else if (s.startsWith("/*")) {
                int end = endOfBlockComment(s, 0);
                s = s.substring(Math.min(end, s.length())).strip();
            } else {
                return s;
            }
        }
    }

    private static void add(List<String> out, String statement) {
        String s = statement.strip();
        if (!withoutLeadingComments(s).isEmpty()) {
            out.add(s);
        }
    }

    /** Index after the closing quote of the quoted text opening at {@code at}. */
    private static int endOfQuoted(String sql, int at, char quote, boolean backslashEscapes) {
        int i = at + 1;
        while (i < sql.length()) {
            char ch = sql.charAt(i);
            if (backslashEscapes && ch == '\\') {
                i += 2;
            } else if (ch == quote) {
                if (i + 1 < sql.length() && sql.charAt(i + 1) == quote) {
                    i += 2; // doubled quote
                } else {
                    return i + 1;
                }
            } else {
                i++;
            }
        }
        return sql.length();
    }

    /** Index after the end of the (possibly nested) block comment opening at {@code at}. */
    private static int endOfBlockComment(String sql, int at) {
        int depth = 0;
        int i = at;
        while (i < sql.length()) {
            if (sql.startsWith("/*", i)) {
                depth++;
                i += 2;
            } else if (sql.startsWith("*/", i)) {
                depth--;
                i += 2;
                if (depth == 0) {
                    return i;
                }
            } else {
                i++;
            }
        }
        return sql.length();
    }
}
