package org.activemirroring.sequences;

/**
 * The arithmetic of interleaved keys: with {@code modulus} mirrors at most, the mirror in slot
 * {@code slot} hands out only values {@code v} with {@code floorMod(v, modulus) == slot}, so two
 * mirrors never generate the same key. Pure functions, no database.
 *
 * <p>PostgreSQL's sequence state is {@code (last_value, is_called)}: when {@code is_called} the
 * next {@code nextval} returns {@code last_value + increment}, otherwise {@code last_value}
 * itself (the state after {@code ALTER SEQUENCE ... RESTART} or {@code setval(s, v, false)}).
 */
public final class SequenceAlignment {
    private SequenceAlignment() {
    }

    /**
     * A sequence as read from the database.
     *
     * @param name      schema-qualified, quoted for SQL
     * @param lastValue {@code last_value}
     * @param isCalled  whether {@code lastValue} was handed out already
     * @param increment {@code increment_by}
     * @param minValue  {@code MINVALUE}
     * @param maxValue  {@code MAXVALUE}
     */
    public record State(String name, long lastValue, boolean isCalled, long increment, long minValue, long maxValue) {
    }

    /** Whether {@code value} belongs to {@code slot}. */
    static boolean aligned(long value, int slot, int modulus) {
        return Math.floorMod(value, modulus) == slot;
    }

    /**
     * The value the next {@code nextval} returns, or null if the sequence is exhausted (the next
     * step passes MAXVALUE; PostgreSQL would raise an error or, with CYCLE, wrap).
     */
    static Long nextValue(State s) {
        if (!s.isCalled()) {
            return s.lastValue();
        }
        long next;
        try {
            next = Math.addExact(s.lastValue(), s.increment());
        } catch (ArithmeticException e) {
            return null;
        }
        return next > s.maxValue() || next < s.minValue() ? null : next;
    }

    /**
     * The smallest value greater than {@code floor} that belongs to {@code slot}, or null if there
     * is none up to {@code Long.MAX_VALUE}.
     */
    static Long smallestAlignedAbove(long floor, int slot, int modulus) {
        if (floor == Long.MAX_VALUE) {
            return null;
        }
        long candidate = floor + 1;
        long step = Math.floorMod((long) slot - Math.floorMod(candidate, modulus), (long) modulus);
        return candidate > Long.MAX_VALUE - step ? null : candidate + step;
    }

    /**
     * Whether a sequence already interleaves correctly: ascending by exactly {@code modulus}, its
     * next value in {@code slot} and above every value already used in the columns it feeds.
     *
     * @param usedMax the highest value in the columns the sequence feeds, null if they are empty
     */
    public static boolean isAligned(State s, Long usedMax, int slot, int modulus) {
        Long next = nextValue(s);
        return s.increment() == modulus && next != null && aligned(next, slot, modulus)
                && (usedMax == null || next > usedMax);
    }

    /**
     * The value to {@code setval(seq, value, true)} so that the sequence hands out only values of
     * {@code slot} from now on (once its increment is {@code modulus}): the smallest value of the
     * slot above everything handed out or used. That value itself is marked as handed out, which
     * wastes one key but keeps {@code pg_sequences.last_value} readable for the cheap check.
     * Never moves the sequence backwards.
     *
     * @param usedMax the highest value in the columns the sequence feeds, null if they are empty
     * @return the target, or null if the sequence's MAXVALUE leaves no value of the slot after it
     */
    public static Long target(State s, Long usedMax, int slot, int modulus) {
        // Values above 'floor' were never handed out: with is_called false, last_value itself not either.
        long floor = s.isCalled() || s.lastValue() == Long.MIN_VALUE ? s.lastValue() : s.lastValue() - 1;
        if (usedMax != null && usedMax > floor) {
            floor = usedMax;
        }
        // Below MINVALUE setval fails; start from the first value the sequence may hold.
        if (s.minValue() != Long.MIN_VALUE && floor < s.minValue() - 1) {
            floor = s.minValue() - 1;
        }
        Long v = smallestAlignedAbove(floor, slot, modulus);
        // The target itself counts as handed out; the first value nextval returns is one step later.
        return v == null || v > s.maxValue() - modulus ? null : v;
    }
}
