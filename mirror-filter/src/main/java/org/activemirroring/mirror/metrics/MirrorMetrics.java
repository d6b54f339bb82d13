package org.activemirroring.mirror.metrics;

import java.util.Objects;
import java.util.function.Supplier;

import io.micrometer.core.instrument.Clock;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.jmx.JmxConfig;
import io.micrometer.jmx.JmxMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import org.activemirroring.mirror.MirrorNode;

/**
 * The meters of one mirror: Prometheus text for {@code /_mirror/metrics} and the same meters as
 * MBeans in the JMX domain {@value #JMX_DOMAIN}, every one tagged {@code mirror=<node id>}.
 *
 * <p>One instance per mirror (per configuration, however many web applications share its node),
 * living as long as the mirror's launcher: the node it reads may be replaced (a mirror that copies
 * its data again starts a new node), so meters read through a supplier of the running node and
 * show nothing (NaN) while none runs. Meters of origins, folders and refusal reasons appear as
 * the node first reports them.
 *
 * <p>Other parts count events through {@link #limitHit} (and {@link #counter} for new ones), so
 * they need no Micrometer type of their own. Thread-safe.
 */
public final class MirrorMetrics implements AutoCloseable {
    /** JMX domain of the mirror's own MBeans. */
    public static final String JMX_DOMAIN = "org.activemirroring";
    /** Content type of {@link #scrape} (Prometheus text format 0.0.4), without its charset. */
    public static final String CONTENT_TYPE_BASE = "text/plain;version=0.0.4";
    /** Tag naming the mirror on every meter. */
    public static final String MIRROR_TAG = "mirror";
    static final String LIMITS_HIT = "mirror.limits.hit";

    private final PrometheusMeterRegistry prometheus;
    private final JmxMeterRegistry jmx;
    private final CompositeMeterRegistry registry;
    private final NodeMeters nodeMeters;

    /**
     * @param nodeId the mirror's id, tagged on every meter
     * @param node   the running node, or null while none runs
     */
    public MirrorMetrics(String nodeId, Supplier<MirrorNode> node) {
        Objects.requireNonNull(nodeId, "nodeId");
        this.prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        this.jmx = new JmxMeterRegistry(new JmxConfig() {
            @Override
            public String get(String key) {
                return null;
            }

            @Override
            public String domain() {
                return JMX_DOMAIN;
            }
        }, Clock.SYSTEM);
        this.registry = new CompositeMeterRegistry(Clock.SYSTEM);
        registry.config().commonTags(MIRROR_TAG, nodeId);
        registry.add(prometheus);
        registry.add(jmx);
        this.nodeMeters = new NodeMeters(registry, node);
        nodeMeters.refresh();
    }

    /** The meters as Prometheus text, read from the node now. */
    public String scrape() {
        nodeMeters.refresh();
        return prometheus.scrape();
    }

    /**
     * Counts one request or upload refused by a limit ({@code mirror_limits_hit_total{limit=...}}).
     *
     * @param limit which limit, e.g. {@code writes} or {@code upload-bytes}; a short constant, not
     *              a client's address (every distinct value is a new time series)
     */
    public void limitHit(String limit) {
        counter(LIMITS_HIT, "Requests refused by a limit (flood control), per limit", "limit", limit).increment();
    }

    /**
     * A counter of this mirror, made on first use: {@code name} in Micrometer's dotted form
     * ({@code mirror.limits.hit} is exported as {@code mirror_limits_hit_total}); tags as key, value pairs.
     */
    public Counter counter(String name, String description, String... tags) {
        return Counter.builder(name).description(description).tags(Tags.of(tags)).register(registry);
    }

    /** The registry behind it, for tests and binders of other parts. */
    public MeterRegistry registry() {
        return registry;
    }

    /** Removes the MBeans and stops the registries; the meters read nothing afterwards. */
    @Override
    public void close() {
        registry.close();
        jmx.close();
        prometheus.close();
    }
}
