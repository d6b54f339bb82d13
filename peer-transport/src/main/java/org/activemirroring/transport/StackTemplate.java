package org.activemirroring.transport;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns a JGroups stack XML with {@code ${name:default}} placeholders into the XML for one mirror.
 *
 * <p>We substitute the placeholders ourselves, from the mirror's own settings, instead of letting
 * JGroups read system properties: several mirrors run in one JVM in tests (and a JVM-wide property
 * would give them all the same port).
 */
public final class StackTemplate {

    /** The built-in stack, on the class path next to this class. */
    static final String BUILT_IN = "tcp-mirror.xml";

    /** FD_SOCK2 listens on bind port + this offset (see tcp-mirror.xml). */
    static final int FD_SOCK_OFFSET = 100;

    private static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{([^}:]+)(?::([^}]*))?}");

    private StackTemplate() {
    }

    /** The stack XML for {@code config}, placeholders filled. */
    /**
     * The {@code mirror.jgroups.*} placeholders of the built-in stack: tuning settings a mirror may
     * set (e.g. {@code mirror.jgroups.fd.timeout}); any other {@code mirror.jgroups.} key is a typo.
     */
    public static java.util.Set<String> builtInTuningKeys() {
        try (InputStream in = StackTemplate.class.getResourceAsStream(BUILT_IN)) {
            String xml = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            java.util.Set<String> keys = new java.util.TreeSet<>();
            java.util.regex.Matcher m = PLACEHOLDER.matcher(xml);
            while (m.find()) {
                if (m.group(1).startsWith("mirror.jgroups.")) {
                    keys.add(m.group(1));
                }
            }
            return keys;
        } catch (java.io.IOException | NullPointerException e) {
            throw new IllegalStateException("the built-in stack " + BUILT_IN + " is missing from the jar", e);
        }
    }

    static InputStream render(TransportConfig config) throws TransportException {
        String xml;
        try {
            if (config.stackFile() != null) {
                xml = Files.readString(config.stackFile(), StandardCharsets.UTF_8);
            } else {
                try (InputStream in = StackTemplate.class.getResourceAsStream(BUILT_IN)) {
                    if (in == null) {
                        throw new TransportException("built-in stack " + BUILT_IN + " missing from the class path", false);
                    }
                    xml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                }
            }
        } catch (IOException e) {
            throw new TransportException("Cannot read the JGroups stack '" + config.stackFile() + "' ("
                    + e.getMessage() + "); fix mirror.transport.stack or remove it to use the built-in stack", false, e);
        }
        return new ByteArrayInputStream(substitute(xml, properties(config)).getBytes(StandardCharsets.UTF_8));
    }

    /** The values placeholders are filled from: the raw settings plus values derived from them. */
    static Map<String, String> properties(TransportConfig config) {
        Map<String, String> p = new LinkedHashMap<>(config.rawSettings());
        p.put(TransportConfig.BIND_HOST.key(), config.bindHost());
        p.put(TransportConfig.BIND_PORT.key(), Integer.toString(config.bindPort()));
        p.put("mirror.tcpping.initial_hosts", initialHosts(config));
        return p;
    }

    /** TCPPING's host[port],... from the peers, always including this mirror. */
    static String initialHosts(TransportConfig config) {
        List<String> hosts = new ArrayList<>();
        hosts.add(config.bindHost() + "[" + config.bindPort() + "]");
        for (String peer : config.peers()) {
            int colon = peer.lastIndexOf(':');
            String host = peer.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            String entry = host + "[" + peer.substring(colon + 1) + "]";
            if (!hosts.contains(entry)) {
                hosts.add(entry);
            }
        }
        return String.join(",", hosts);
    }

    /**
     * Replaces each {@code ${name:default}} by the value of {@code name}, or else its default.
     *
     * @throws TransportException naming the placeholder if it has neither
     */
    static String substitute(String xml, Map<String, String> props) throws TransportException {
        Matcher m = PLACEHOLDER.matcher(xml);
        StringBuilder out = new StringBuilder();
        List<String> missing = new ArrayList<>();
        while (m.find()) {
            String value = props.get(m.group(1).trim());
            if (value == null) {
                value = m.group(2);
            }
            if (value == null) {
                missing.add(m.group(1));
                value = "";
            }
            m.appendReplacement(out, Matcher.quoteReplacement(xmlEscape(value)));
        }
        m.appendTail(out);
        if (!missing.isEmpty()) {
            throw new TransportException("The JGroups stack has placeholders without value or default: " + missing
                    + "; set them in mirror.properties or give them a default (${name:default})", false);
        }
        return out.toString();
    }

    private static String xmlEscape(String v) {
        return v.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;")
                .replace("'", "&apos;");
    }
}
