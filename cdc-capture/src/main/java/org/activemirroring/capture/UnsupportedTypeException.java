package org.activemirroring.capture;

/**
 * A column's type cannot be mirrored yet. Permanent: capture stops rather than send a value a peer
 * would store wrongly; the operator excludes the table or waits for support of the type.
 */
public final class UnsupportedTypeException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String table;
    private final String column;
    private final String type;

    public UnsupportedTypeException(String table, String column, String type) {
        super("Column " + column + " of table " + table + " has type " + type
                + ", which ActiveMirroring cannot mirror yet; exclude the table with mirror.tables.exclude"
                + " or change the column type");
        this.table = table;
        this.column = column;
        this.type = type;
    }

    public String table() {
        return table;
    }

    public String column() {
        return column;
    }

    public String type() {
        return type;
    }
}
