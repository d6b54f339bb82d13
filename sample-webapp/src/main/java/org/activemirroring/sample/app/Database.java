package org.activemirroring.sample.app;

import java.util.List;

import javax.sql.DataSource;

import jakarta.persistence.EntityManagerFactory;

import org.activemirroring.sample.account.Account;
import org.activemirroring.sample.account.RestoredAccount;
import org.activemirroring.sample.account.UserSession;
import org.activemirroring.sample.item.Item;
import org.activemirroring.sample.item.ItemComment;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;
import org.hibernate.jpa.HibernatePersistenceConfiguration;

/**
 * The site's database: Flyway's migrations (src/main/resources/db/migration) run at every start,
 * on every mirror, then Hibernate on the same pooled data source. Migrations are plain versioned
 * ones: a mirror that joined has the network's {@code flyway_schema_history} and finds nothing to
 * do; Hibernate only validates nothing and creates nothing ({@code schema management: none}).
 */
public final class Database {
    /** The entity classes, listed so that no class path scanning is needed. */
    static final List<Class<?>> ENTITIES = List.of(Account.class, UserSession.class, RestoredAccount.class,
            Item.class, ItemComment.class);

    private Database() {
    }

    /** Brings the schema up to date; returns how many migrations ran. */
    public static int migrate(DataSource ds, ClassLoader loader) {
        MigrateResult r = Flyway.configure(loader).dataSource(ds).locations("classpath:db/migration").load().migrate();
        return r.migrationsExecuted;
    }

    /** An entity manager factory over {@code ds}, which stays the container's to close. */
    public static EntityManagerFactory open(DataSource ds) {
        HibernatePersistenceConfiguration cfg = new HibernatePersistenceConfiguration("sample-site");
        ENTITIES.forEach(cfg::managedClass);
        return cfg.property("hibernate.connection.datasource", ds)
                .property("hibernate.hbm2ddl.auto", "none")
                .property("hibernate.jdbc.time_zone", "UTC")
                .createEntityManagerFactory();
    }
}
