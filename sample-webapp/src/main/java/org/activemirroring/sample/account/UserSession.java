package org.activemirroring.sample.account;

import java.time.Instant;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.FetchType;
import jakarta.persistence.Id;
import jakarta.persistence.JoinColumn;
import jakarta.persistence.ManyToOne;
import jakarta.persistence.Table;

/**
 * A login: the SHA-256 of the token in the user's cookie (the token itself is never stored), the
 * account, and when it was made, last used and ends. A mirrored table like any other, so every
 * mirror knows every login.
 */
@Entity
@Table(name = "user_session")
public class UserSession {
    @Id
    @Column(name = "token_hash", length = 64)
    private String tokenHash;

    @ManyToOne(fetch = FetchType.LAZY, optional = false)
    @JoinColumn(name = "account_id", nullable = false)
    private Account account;

    @Column(name = "created_at", nullable = false)
    private Instant createdAt;

    @Column(name = "last_seen", nullable = false)
    private Instant lastSeen;

    @Column(name = "expires_at", nullable = false)
    private Instant expiresAt;

    protected UserSession() {
    }

    UserSession(String tokenHash, Account account, Instant createdAt, Instant expiresAt) {
        this.tokenHash = tokenHash;
        this.account = account;
        this.createdAt = createdAt;
        this.lastSeen = createdAt;
        this.expiresAt = expiresAt;
    }

    Account getAccount() {
        return account;
    }

    Instant getLastSeen() {
        return lastSeen;
    }

    Instant getExpiresAt() {
        return expiresAt;
    }

    void seen(Instant at) {
        this.lastSeen = at;
    }
}
