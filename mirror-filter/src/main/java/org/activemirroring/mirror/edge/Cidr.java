package org.activemirroring.mirror.edge;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import org.activemirroring.config.ConfigOption;

/**
 * An IPv4 or IPv6 address range ({@code 10.0.0.0/8}, {@code ::1/128}; a bare address is the range
 * of that one address). Only literal addresses are accepted, so parsing never asks DNS.
 */
public final class Cidr {
    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*");

    private final byte[] network;
    private final int bits;
    private final String text;

    private Cidr(byte[] network, int bits, String text) {
        this.network = network;
        this.bits = bits;
        this.text = text;
    }

    /**
     * Parses {@code address[/bits]}.
     *
     * @throws IllegalArgumentException saying what is wrong with the value
     */
    public static Cidr parse(String value) {
        String v = value.trim();
        int slash = v.indexOf('/');
        String address = slash < 0 ? v : v.substring(0, slash);
        InetAddress a = literal(address);
        if (a == null) {
            throw new IllegalArgumentException("'" + value + "' is not an IPv4 or IPv6 address (host names are not"
                    + " accepted here)");
        }
        byte[] bytes = a.getAddress();
        int max = bytes.length * 8;
        int bits = max;
        if (slash >= 0) {
            try {
                bits = Integer.parseInt(v.substring(slash + 1));
            } catch (NumberFormatException e) {
                bits = -1;
            }
            if (bits < 0 || bits > max) {
                throw new IllegalArgumentException("'" + value + "' has a prefix length outside 0.." + max);
            }
        }
        return new Cidr(mask(bytes, bits), bits, v);
    }

    /** What is wrong with each entry of a comma-separated list; empty when nothing is. */
    static List<String> problemsOf(String list) {
        List<String> problems = new ArrayList<>();
        for (String s : ConfigOption.splitCommaList(list)) {
            try {
                parse(s);
            } catch (IllegalArgumentException e) {
                problems.add(e.getMessage());
            }
        }
        return problems;
    }

    /** The address of a literal IPv4 or IPv6 text, or null when it is none (never a DNS look-up). */
    static InetAddress literal(String text) {
        String t = text.trim();
        if (t.startsWith("[") && t.endsWith("]")) {
            t = t.substring(1, t.length() - 1);
        }
        boolean v4 = IPV4.matcher(t).matches();
        if (t.isEmpty() || !(v4 || IPV6.matcher(t).matches())) {
            return null;
        }
        if (v4) {
            for (String octet : t.split("\\.")) {
                if (Integer.parseInt(octet) > 255) {
                    return null; // else InetAddress would take it for a host name and ask DNS
                }
            }
        }
        try {
            return InetAddress.getByName(t);
        } catch (UnknownHostException e) {
            return null;
        }
    }

    /** Whether {@code address} lies in this range (an IPv4 address never lies in an IPv6 range). */
    public boolean contains(InetAddress address) {
        byte[] b = address.getAddress();
        return b.length == network.length && java.util.Arrays.equals(mask(b, bits), network);
    }

    private static byte[] mask(byte[] address, int bits) {
        byte[] out = address.clone();
        for (int i = 0; i < out.length; i++) {
            int keep = Math.max(0, Math.min(8, bits - i * 8));
            out[i] = (byte) (out[i] & (0xff00 >> keep));
        }
        return out;
    }

    @Override
    public String toString() {
        return text;
    }
}
