package org.activemirroring.db;

import java.sql.SQLException;

/**
 * A mirrored table has no primary key and no unique index over NOT NULL columns, so a row change
 * cannot name the row it changes. Permanent: the operator adds a key or excludes the table.
 */
public final class NoPrimaryKeyException extends SQLException {
    private static final long serialVersionUID = 1L;

    public NoPrimaryKeyException(String qualifiedTable) {
        super("Table " + qualifiedTable + " has no primary key and no unique index over NOT NULL columns, so its"
                + " rows cannot be mirrored; add a primary key"
                + " (ALTER TABLE " + qualifiedTable + " ADD PRIMARY KEY (...)) or exclude it with"
                + " mirror.tables.exclude=" + qualifiedTable);
    }
}
