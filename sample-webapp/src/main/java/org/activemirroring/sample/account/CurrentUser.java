package org.activemirroring.sample.account;

/**
 * The logged-in user of a request, as the session filter found them.
 *
 * @param id    the account's id
 * @param name  the account's user name
 * @param token the session token from the cookie (to end the session at logout)
 */
public record CurrentUser(long id, String name, String token) {
    /** For the templates, which read bean properties. */
    public String getName() {
        return name;
    }

    public long getId() {
        return id;
    }
}
