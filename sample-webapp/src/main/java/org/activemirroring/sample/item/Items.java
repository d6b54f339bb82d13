package org.activemirroring.sample.item;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import jakarta.persistence.EntityManager;
import jakarta.persistence.EntityManagerFactory;
import jakarta.persistence.EntityTransaction;
import jakarta.persistence.TypedQuery;

import org.activemirroring.sample.account.Account;

/**
 * The archive's items and comments: listing, search, reading, and the owner's changes. An item's
 * image is written to the upload folder inside the item's transaction and removed again when the
 * transaction fails, so no row names a missing file that this mirror made; a replaced or deleted
 * image is removed once its row no longer names it.
 */
public final class Items {
    private static final Logger LOG = System.getLogger(Items.class.getName());
    /** Items per list page. */
    public static final int PAGE_SIZE = 10;
    /** Longest search text. */
    public static final int MAX_QUERY = 100;

    private final EntityManagerFactory emf;
    private final ImageStore images;
    private final Clock clock;

    public Items(EntityManagerFactory emf, ImageStore images, Clock clock) {
        this.emf = emf;
        this.images = images;
        this.clock = clock;
    }

    /** An uploaded image whose type was checked. */
    public interface Upload {
        ImageType type();

        InputStream open() throws IOException;
    }

    /** What a change by a user came to. */
    public enum Outcome { DONE, NOT_FOUND, NOT_OWNER }

    /** One page of a list, numbered from 1. */
    public record Page(List<Item> items, int number, boolean hasNext) {
        public List<Item> getItems() {
            return items;
        }

        public int getNumber() {
            return number;
        }

        public boolean isHasNext() {
            return hasNext;
        }
    }

    /** Page {@code number} (from 1) of all items, newest first. */
    public Page list(int number) {
        return emf.callInTransaction(em -> page(em.createQuery(
                "select i from Item i join fetch i.owner order by i.createdAt desc, i.id desc", Item.class), number));
    }

    /** Page {@code number} of the items whose title or description contains {@code text}, any case. */
    public Page search(String text, int number) {
        String pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%";
        return emf.callInTransaction(em -> page(em.createQuery("select i from Item i join fetch i.owner"
                        + " where i.title ilike :p escape '\\' or i.description ilike :p escape '\\'"
                        + " order by i.createdAt desc, i.id desc", Item.class).setParameter("p", pattern), number));
    }

    private static Page page(TypedQuery<Item> q, int number) {
        List<Item> rows = q.setFirstResult((number - 1) * PAGE_SIZE).setMaxResults(PAGE_SIZE + 1).getResultList();
        boolean more = rows.size() > PAGE_SIZE;
        return new Page(more ? rows.subList(0, PAGE_SIZE) : rows, number, more);
    }

    /** The item with its owner. */
    public Optional<Item> find(long id) {
        return emf.callInTransaction(em -> em.createQuery("select i from Item i join fetch i.owner where i.id = :id",
                Item.class).setParameter("id", id).getResultStream().findFirst());
    }

    /** An item's comments, oldest first, with their authors. */
    public List<ItemComment> comments(long itemId) {
        return emf.callInTransaction(em -> em.createQuery("select c from ItemComment c join fetch c.author"
                + " where c.item.id = :id order by c.createdAt, c.id", ItemComment.class)
                .setParameter("id", itemId).getResultList());
    }

    /** Creates an item of {@code ownerId} with its image; returns its id. */
    public long create(long ownerId, ItemFields fields, Upload image) throws IOException {
        return inTransaction(tx -> {
            Item item = new Item(tx.em.getReference(Account.class, ownerId), fields, clock.instant());
            tx.em.persist(item);
            tx.em.flush();
            item.setImagePath(tx.store(item.getId(), image));
            return item.getId();
        });
    }

    /**
     * Changes an item's text and, when {@code image} is not null, its image; only its owner may.
     */
    public Outcome update(long itemId, long userId, ItemFields fields, Upload image) throws IOException {
        String[] oldImage = new String[1];
        Outcome outcome = inTransaction(tx -> {
            Item item = tx.em.find(Item.class, itemId);
            if (item == null) {
                return Outcome.NOT_FOUND;
            }
            if (item.getOwnerId() != userId) {
                return Outcome.NOT_OWNER;
            }
            item.update(fields, clock.instant());
            if (image != null) {
                oldImage[0] = item.getImagePath();
                item.setImagePath(tx.store(itemId, image));
            }
            return Outcome.DONE;
        });
        removeQuietly(oldImage[0]);
        return outcome;
    }

    /** Deletes an item, its comments and its image; only its owner may. */
    public Outcome delete(long itemId, long userId) throws IOException {
        String[] image = new String[1];
        Outcome outcome = inTransaction(tx -> {
            Item item = tx.em.find(Item.class, itemId);
            if (item == null) {
                return Outcome.NOT_FOUND;
            }
            if (item.getOwnerId() != userId) {
                return Outcome.NOT_OWNER;
            }
            image[0] = item.getImagePath();
            tx.em.createQuery("delete from ItemComment c where c.item.id = :id").setParameter("id", itemId).executeUpdate();
            tx.em.remove(item);
            return Outcome.DONE;
        });
        removeQuietly(image[0]);
        return outcome;
    }

    /** Adds a comment by {@code userId}; {@code body} was validated. */
    public Outcome comment(long itemId, long userId, String body) throws IOException {
        return inTransaction(tx -> {
            Item item = tx.em.find(Item.class, itemId);
            if (item == null) {
                return Outcome.NOT_FOUND;
            }
            tx.em.persist(new ItemComment(item, tx.em.getReference(Account.class, userId), body, clock.instant()));
            return Outcome.DONE;
        });
    }

    /** A transaction, and the images stored in it (removed again unless it commits). */
    private final class Tx {
        final EntityManager em;
        final List<String> stored = new ArrayList<>();

        Tx(EntityManager em) {
            this.em = em;
        }

        String store(long itemId, Upload image) {
            try (InputStream in = image.open()) {
                String path = images.store(itemId, image.type(), in);
                stored.add(path);
                return path;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    private interface Work<T> {
        T apply(Tx tx);
    }

    /** Runs {@code work} in a transaction; images it stored are removed when it does not commit. */
    private <T> T inTransaction(Work<T> work) throws IOException {
        EntityManager em = emf.createEntityManager();
        EntityTransaction tx = em.getTransaction();
        Tx state = new Tx(em);
        boolean committed = false;
        try {
            tx.begin();
            T result = work.apply(state);
            tx.commit();
            committed = true;
            return result;
        } catch (UncheckedIOException e) {
            throw e.getCause();
        } finally {
            if (tx.isActive()) {
                tx.rollback();
            }
            em.close();
            if (!committed) {
                state.stored.forEach(this::removeQuietly);
            }
        }
    }

    private void removeQuietly(String path) {
        if (path == null) {
            return;
        }
        try {
            images.delete(path);
        } catch (IOException e) {
            LOG.log(Level.WARNING, "Could not remove the image " + path + " that no item names any more: " + e);
        }
    }
}
