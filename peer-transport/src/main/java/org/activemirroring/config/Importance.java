package org.activemirroring.config;

/** How often an operator needs an option; the README groups its option tables by this. */
public enum Importance {
    /** Every mirror must set it. */
    ESSENTIAL,
    /** Commonly tuned. */
    FREQUENT,
    /** Only for special deployments or tests. */
    RARE
}
