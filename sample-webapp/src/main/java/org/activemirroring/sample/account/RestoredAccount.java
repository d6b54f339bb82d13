package org.activemirroring.sample.account;

import java.time.Instant;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

/**
 * An account restored under a new name after its registration lost a user-name collision with
 * another mirror. Unique on (mirror, conflict id), so being told of one lost registration twice
 * restores it once; {@code noticeShownAt} is set when its owner has been told.
 */
@Entity
@Table(name = "restored_account")
public class RestoredAccount {
    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    private Long id;

    @Column(name = "mirror_id", nullable = false)
    private String mirrorId;

    @Column(name = "conflict_id", nullable = false)
    private long conflictId;

    @Column(name = "account_id", nullable = false)
    private long accountId;

    @Column(name = "original_name", nullable = false)
    private String originalName;

    @Column(name = "new_name", nullable = false)
    private String newName;

    @Column(name = "restored_at", nullable = false)
    private Instant restoredAt;

    @Column(name = "notice_shown_at")
    private Instant noticeShownAt;

    protected RestoredAccount() {
    }

    RestoredAccount(String mirrorId, long conflictId, long accountId, String originalName, String newName,
                    Instant restoredAt) {
        this.mirrorId = mirrorId;
        this.conflictId = conflictId;
        this.accountId = accountId;
        this.originalName = originalName;
        this.newName = newName;
        this.restoredAt = restoredAt;
    }

    public long getAccountId() {
        return accountId;
    }

    public String getOriginalName() {
        return originalName;
    }

    public String getNewName() {
        return newName;
    }

    public Instant getNoticeShownAt() {
        return noticeShownAt;
    }

    void noticeShown(Instant at) {
        this.noticeShownAt = at;
    }
}
