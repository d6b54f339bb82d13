package org.activemirroring.sample.item;

import java.time.Instant;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.FetchType;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.JoinColumn;
import jakarta.persistence.ManyToOne;
import jakarta.persistence.Table;

import org.activemirroring.sample.account.Account;

/** An archived item: what it is, where and when from, and its image in the upload folder. */
@Entity
@Table(name = "item")
public class Item {
    /** Longest title. */
    public static final int MAX_TITLE = 200;
    /** Longest description. */
    public static final int MAX_DESCRIPTION = 5000;
    /** Longest place. */
    public static final int MAX_PLACE = 200;
    /** Longest period. */
    public static final int MAX_PERIOD = 100;

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    private Long id;

    @ManyToOne(fetch = FetchType.LAZY, optional = false)
    @JoinColumn(name = "owner_id", nullable = false)
    private Account owner;

    @Column(name = "title", nullable = false, length = MAX_TITLE)
    private String title;

    @Column(name = "description", nullable = false)
    private String description;

    @Column(name = "place", nullable = false, length = MAX_PLACE)
    private String place;

    @Column(name = "period", nullable = false, length = MAX_PERIOD)
    private String period;

    /** Relative to the upload folder ({@code items/<id>/<random>.<ext>}); null until stored. */
    @Column(name = "image_path")
    private String imagePath;

    @Column(name = "created_at", nullable = false)
    private Instant createdAt;

    @Column(name = "updated_at", nullable = false)
    private Instant updatedAt;

    protected Item() {
    }

    Item(Account owner, ItemFields fields, Instant now) {
        this.owner = owner;
        this.createdAt = now;
        update(fields, now);
    }

    final void update(ItemFields f, Instant now) {
        this.title = f.title();
        this.description = f.description();
        this.place = f.place();
        this.period = f.period();
        this.updatedAt = now;
    }

    void setImagePath(String imagePath) {
        this.imagePath = imagePath;
    }

    public Long getId() {
        return id;
    }

    public Account getOwner() {
        return owner;
    }

    public String getOwnerName() {
        return owner.getUserName();
    }

    public long getOwnerId() {
        return owner.getId();
    }

    public String getTitle() {
        return title;
    }

    public String getDescription() {
        return description;
    }

    public String getPlace() {
        return place;
    }

    public String getPeriod() {
        return period;
    }

    public String getImagePath() {
        return imagePath;
    }

    public Instant getCreatedAt() {
        return createdAt;
    }

    public Instant getUpdatedAt() {
        return updatedAt;
    }
}
