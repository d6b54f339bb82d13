package org.activemirroring.sample.app;

import jakarta.servlet.ServletContext;

import org.activemirroring.sample.account.Accounts;
import org.activemirroring.sample.account.Sessions;
import org.activemirroring.sample.item.ImageStore;
import org.activemirroring.sample.item.Items;

/**
 * What every request of the site uses, made once at start by {@link SiteStartup} and kept as a
 * servlet context attribute.
 */
public record Site(SiteConfig config, Pages pages, Accounts accounts, Sessions sessions, Items items,
                   ImageStore images) {
    static final String ATTRIBUTE = Site.class.getName();

    /** The running site of {@code context}. */
    public static Site of(ServletContext context) {
        Object s = context.getAttribute(ATTRIBUTE);
        if (s instanceof Site site) {
            return site;
        }
        throw new IllegalStateException("The sample site did not start (see the log for why): no " + ATTRIBUTE
                + " in the servlet context");
    }
}
