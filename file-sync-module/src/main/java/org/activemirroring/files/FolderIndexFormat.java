package org.activemirroring.files;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The text form of one {@link FolderEntry} in a folder index or its log (see {@link FolderIndex}
 * for the format): writing a line, reading one back (strictly: a bad line is refused with why),
 * and the percent-encoding of text fields.
 */
final class FolderIndexFormat {

    private FolderIndexFormat() {
    }

    static void formatEntry(StringBuilder sb, FolderEntry e) {
        sb.append("f ").append(enc(e.path()))
                .append(' ').append(e.size())
                .append(' ').append(e.mtimeMs())
                .append(' ').append(e.mode() == null ? "-" : Integer.toOctalString(e.mode()))
                .append(' ').append(e.fileKey() == null || e.fileKey().isEmpty() ? "-" : enc(e.fileKey()))
                .append(' ').append(e.sha256Hex() == null ? "-" : e.sha256Hex())
                .append(' ').append(e.tombstone() ? "tomb" : "live")
                .append(' ');
        if (e.versions().isEmpty()) {
            sb.append('-');
        } else {
            boolean first = true;
            for (Map.Entry<String, Long> v : e.versions().entrySet()) {
                sb.append(first ? "" : ",").append(enc(v.getKey())).append('=').append(v.getValue());
                first = false;
            }
        }
        sb.append(' ');
        if (e.blocks().isEmpty()) {
            sb.append('-');
        } else {
            boolean first = true;
            for (FolderEntry.BlockRef b : e.blocks()) {
                sb.append(first ? "" : ";").append(b.offset()).append(':').append(b.length()).append(':')
                        .append(b.sha256Hex());
                first = false;
            }
        }
        sb.append(' ').append(e.modifiedBy() == null ? "-" : enc(e.modifiedBy()));
        sb.append('\n');
    }

    static FolderEntry parse(String line) {
        String[] f = line.split(" ", -1);
        if (f.length != 11 || !f[0].equals("f")) {
            throw new IllegalArgumentException("expected 11 fields starting with 'f', found " + f.length);
        }
        String path = dec(f[1]);
        String why = FolderPaths.refusal(path);
        if (why != null) {
            throw new IllegalArgumentException("path refused: " + why);
        }
        long size = Long.parseLong(f[2]);
        long mtime = Long.parseLong(f[3]);
        Integer mode = f[4].equals("-") ? null : Integer.parseInt(f[4], 8);
        String fileKey = f[5].equals("-") ? null : dec(f[5]);
        String sha = f[6].equals("-") ? null : hex(f[6]);
        boolean tomb;
        if (f[7].equals("tomb")) {
            tomb = true;
        } else if (f[7].equals("live")) {
            tomb = false;
        } else {
            throw new IllegalArgumentException("state '" + f[7] + "' is neither live nor tomb");
        }
        Map<String, Long> versions = new TreeMap<>();
        if (!f[8].equals("-")) {
            for (String v : f[8].split(",", -1)) {
                int eq = v.indexOf('=');
                if (eq <= 0) {
                    throw new IllegalArgumentException("bad version '" + v + "'");
                }
                versions.put(dec(v.substring(0, eq)), Long.parseLong(v.substring(eq + 1)));
            }
        }
        List<FolderEntry.BlockRef> blocks = new ArrayList<>();
        if (!f[9].equals("-")) {
            for (String b : f[9].split(";", -1)) {
                String[] p = b.split(":", -1);
                if (p.length != 3) {
                    throw new IllegalArgumentException("bad block '" + b + "'");
                }
                blocks.add(new FolderEntry.BlockRef(Long.parseLong(p[0]), Integer.parseInt(p[1]), hex(p[2])));
            }
        }
        String modifiedBy = f[10].equals("-") ? null : dec(f[10]);
        return new FolderEntry(path, size, mtime, mode, fileKey, sha, blocks, versions, tomb, modifiedBy);
    }

    private static String hex(String s) {
        if (!s.matches("[0-9a-f]{64}")) {
            throw new IllegalArgumentException("'" + s + "' is not a SHA-256 in hex");
        }
        return s;
    }

    private static boolean safe(int b) {
        return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9')
                || b == '.' || b == '_' || b == '~' || b == '/';
    }

    static String enc(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            int u = b & 0xff;
            if (safe(u)) {
                sb.append((char) u);
            } else {
                sb.append('%').append(Character.toUpperCase(Character.forDigit(u >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(u & 0xf, 16)));
            }
        }
        return sb.toString();
    }

    static String dec(String s) {
        if (s.isEmpty()) {
            throw new IllegalArgumentException("empty field");
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%') {
                if (i + 3 > s.length()) {
                    throw new IllegalArgumentException("truncated escape in '" + s + "'");
                }
                int hi = Character.digit(s.charAt(i + 1), 16);
                int lo = Character.digit(s.charAt(i + 2), 16);
                if (hi < 0 || lo < 0) {
                    throw new IllegalArgumentException("bad escape in '" + s + "'");
                }
                out.write(hi << 4 | lo);
                i += 2;
            } else if (safe(c)) {
                out.write(c);
            } else {
                throw new IllegalArgumentException("unescaped character '" + c + "' in '" + s + "'");
            }
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(out.toByteArray())).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("escaped text is not UTF-8 in '" + s + "'");
        }
    }
}
