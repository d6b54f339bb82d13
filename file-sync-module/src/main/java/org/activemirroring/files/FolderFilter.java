package org.activemirroring.files;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The include/exclude globs of one folder as one filter object. Paths are relative, separated by
 * {@code /}. Globs: {@code *} any characters within one name, {@code ?} one character within a
 * name, {@code **} any number of whole directories ({@code **}{@code /x} also matches {@code x}).
 * A glob without {@code /} matches a name at any depth, as in {@code .gitignore}: {@code *.tmp}
 * excludes {@code a/b/c.tmp}. A directory matching an exclude glob is skipped with all it holds.
 * Character classes and braces are refused rather than guessed at.
 */
public final class FolderFilter {

    /** Includes everything, excludes nothing. */
    public static final FolderFilter ALL = new FolderFilter(List.of(), List.of(), List.of(), List.of());

    private final List<String> includeGlobs;
    private final List<String> excludeGlobs;
    private final List<Pattern> include;
    private final List<Pattern> exclude;

    private FolderFilter(List<String> includeGlobs, List<String> excludeGlobs, List<Pattern> include,
                         List<Pattern> exclude) {
        this.includeGlobs = List.copyOf(includeGlobs);
        this.excludeGlobs = List.copyOf(excludeGlobs);
        this.include = List.copyOf(include);
        this.exclude = List.copyOf(exclude);
    }

    /**
     * Builds a filter; an empty include list includes everything. Each bad glob adds a problem
     * (naming {@code key}) to {@code problems}; the bad glob is then left out.
     */
    public static FolderFilter of(List<String> includeGlobs, List<String> excludeGlobs, String includeKey,
                                  String excludeKey, List<String> problems) {
        return new FolderFilter(includeGlobs, excludeGlobs, compile(includeGlobs, includeKey, problems),
                compile(excludeGlobs, excludeKey, problems));
    }

    private static List<Pattern> compile(List<String> globs, String key, List<String> problems) {
        List<Pattern> out = new ArrayList<>();
        for (String g : globs) {
            String why = globProblem(g);
            if (why != null) {
                problems.add("Invalid glob '" + g + "' in '" + key + "': " + why
                        + "; write relative paths with '/', using *, ? and ** (e.g. images/**, *.tmp).");
            } else {
                out.add(toRegex(g));
            }
        }
        return out;
    }

    /** Why {@code glob} is refused, or null when it is usable. */
    static String globProblem(String glob) {
        if (glob.isEmpty()) {
            return "it is empty";
        }
        if (glob.startsWith("/") || glob.matches("^[A-Za-z]:.*")) {
            return "it is absolute, globs are relative to the folder";
        }
        if (glob.indexOf('\\') >= 0) {
            return "it contains '\\'";
        }
        for (char c : new char[] {'[', ']', '{', '}'}) {
            if (glob.indexOf(c) >= 0) {
                return "'" + c + "' (character classes and braces) is not supported";
            }
        }
        for (String seg : glob.split("/", -1)) {
            if (seg.isEmpty()) {
                return "it has an empty segment ('//' or a trailing '/')";
            }
            if (seg.equals("..") || seg.equals(".")) {
                return "it has a '" + seg + "' segment";
            }
            if (seg.contains("**") && !seg.equals("**")) {
                return "'**' must be a whole segment (like a/**/b)";
            }
        }
        return null;
    }

    static Pattern toRegex(String glob) {
        String g = glob.contains("/") ? glob : "**/" + glob;
        StringBuilder re = new StringBuilder();
        String[] segs = g.split("/", -1);
        for (int i = 0; i < segs.length; i++) {
            String seg = segs[i];
            boolean last = i == segs.length - 1;
            if (seg.equals("**")) {
                // "**/" matches zero or more directories; a trailing "**" matches everything below.
                re.append(last ? ".*" : "(?:[^/]+/)*");
                continue;
            }
            for (char c : seg.toCharArray()) {
                if (c == '*') {
                    re.append("[^/]*");
                } else if (c == '?') {
                    re.append("[^/]");
                } else {
                    re.append(Pattern.quote(String.valueOf(c)));
                }
            }
            if (!last) {
                re.append('/');
            }
        }
        return Pattern.compile(re.toString());
    }

    /** True when the file at relative path {@code rel} belongs to the folder. */
    public boolean includes(String rel) {
        if (excludedItselfOrAbove(rel)) {
            return false;
        }
        if (include.isEmpty()) {
            return true;
        }
        for (Pattern p : include) {
            if (p.matcher(rel).matches()) {
                return true;
            }
        }
        return false;
    }

    /** True when the directory at relative path {@code rel} is excluded, so the scan skips it whole. */
    public boolean excludesDirectory(String rel) {
        return excludedItselfOrAbove(rel);
    }

    private boolean excludedItselfOrAbove(String rel) {
        int from = 0;
        while (true) {
            int slash = rel.indexOf('/', from);
            String prefix = slash < 0 ? rel : rel.substring(0, slash);
            for (Pattern p : exclude) {
                if (p.matcher(prefix).matches()) {
                    return true;
                }
            }
            if (slash < 0) {
                return false;
            }
            from = slash + 1;
        }
    }

    public List<String> includeGlobs() {
        return includeGlobs;
    }

    public List<String> excludeGlobs() {
        return excludeGlobs;
    }

    @Override
    public String toString() {
        return "include=" + includeGlobs + " exclude=" + excludeGlobs;
    }
}
