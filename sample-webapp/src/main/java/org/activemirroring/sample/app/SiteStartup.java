package org.activemirroring.sample.app;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.security.SecureRandom;
import java.time.Clock;

import jakarta.persistence.EntityManagerFactory;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletContextAttributeEvent;
import jakarta.servlet.ServletContextAttributeListener;
import jakarta.servlet.ServletContextEvent;
import jakarta.servlet.ServletContextListener;
import jakarta.servlet.annotation.WebListener;

import org.activemirroring.sample.account.Accounts;
import org.activemirroring.sample.account.JpaAccountStore;
import org.activemirroring.sample.account.LostRegistrations;
import org.activemirroring.sample.account.PasswordHasher;
import org.activemirroring.sample.account.Sessions;
import org.activemirroring.sample.item.ImageStore;
import org.activemirroring.sample.item.Items;
import org.activemirroring.site.MirrorSite;

/**
 * Starts the site (configuration, migrations, Hibernate, services) and stops it. A start that
 * fails throws, so Tomcat does not serve a half-configured site. When the site runs in a mirror
 * ({@link MirrorSite} appears as a context attribute, which the mirror filter sets once its node
 * started, after this listener ran), it registers {@link LostRegistrations} with it, and closes
 * that registration when the mirror goes or the site stops.
 */
@WebListener
public final class SiteStartup implements ServletContextListener, ServletContextAttributeListener {
    private static final Logger LOG = System.getLogger(SiteStartup.class.getName());
    /** The account table as the mirror names it in lost writes. */
    public static final String ACCOUNT_TABLE = "public.account";

    private EntityManagerFactory emf;
    private AutoCloseable lostWrites;

    @Override
    public void contextInitialized(ServletContextEvent event) {
        ServletContext context = event.getServletContext();
        SiteConfig config = SiteConfig.load(context);
        int ran = Database.migrate(config.dataSource(), SiteStartup.class.getClassLoader());
        emf = Database.open(config.dataSource());
        Clock clock = Clock.systemUTC();
        SecureRandom random = new SecureRandom();
        ImageStore images = new ImageStore(config.uploadDir(), random);
        Site site = new Site(config, new Pages(),
                new Accounts(emf, new PasswordHasher(PasswordHasher.DEFAULT_ITERATIONS, random), clock),
                new Sessions(emf, random, clock), new Items(emf, images, clock), images);
        context.setAttribute(Site.ATTRIBUTE, site);
        LOG.log(Level.INFO, "Sample site started: " + ran + " migration(s) run, uploads in " + config.uploadDir()
                + " (replicated folder '" + config.uploadFolderName() + "')");
        MirrorSite.of(context).ifPresent(this::listenTo);
    }

    @Override
    public void attributeAdded(ServletContextAttributeEvent event) {
        if (MirrorSite.ATTRIBUTE.equals(event.getName()) && event.getValue() instanceof MirrorSite m) {
            listenTo(m);
        }
    }

    @Override
    public void attributeReplaced(ServletContextAttributeEvent event) {
        if (MirrorSite.ATTRIBUTE.equals(event.getName())) {
            // The event carries the old value; the new one is in the context.
            MirrorSite.of(event.getServletContext()).ifPresentOrElse(this::listenTo, this::stopListening);
        }
    }

    @Override
    public void attributeRemoved(ServletContextAttributeEvent event) {
        if (MirrorSite.ATTRIBUTE.equals(event.getName())) {
            stopListening();
        }
    }

    private synchronized void listenTo(MirrorSite mirror) {
        if (emf == null) {
            return; // the site did not start; nothing could restore accounts
        }
        stopListening();
        lostWrites = mirror.onLostWrite(new LostRegistrations(mirror.mirrorId(), ACCOUNT_TABLE,
                new JpaAccountStore(emf, Clock.systemUTC())));
        LOG.log(Level.INFO, "Listening for lost registrations of mirror " + mirror.mirrorId());
    }

    private synchronized void stopListening() {
        if (lostWrites != null) {
            try {
                lostWrites.close();
            } catch (Exception e) {
                LOG.log(Level.WARNING, "Could not stop listening for lost writes: " + e);
            }
            lostWrites = null;
        }
    }

    @Override
    public void contextDestroyed(ServletContextEvent event) {
        stopListening();
        event.getServletContext().removeAttribute(Site.ATTRIBUTE);
        synchronized (this) {
            if (emf != null) {
                emf.close();
                emf = null;
            }
        }
    }
}
