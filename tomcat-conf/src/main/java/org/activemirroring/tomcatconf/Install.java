package org.activemirroring.tomcatconf;

/** The two ways the plugin goes into a Tomcat (README, "Deploying on Tomcat"). */
public enum Install {
    /**
     * (a) The plugin's jars in the site's {@code WEB-INF/lib} and MirrorFilter in the site's
     * {@code web.xml}: the WAR carries both, {@code $CATALINA_BASE/lib} only holds the JNDI pool.
     */
    WAR,
    /**
     * (b) The plugin's jars in {@code $CATALINA_BASE/lib} and MirrorFilter in Tomcat's global
     * {@code conf/web.xml}, for a site whose WAR cannot be rebuilt: every web application gets the
     * filter, all share one mirror node.
     */
    TOMCAT_LIB
}
