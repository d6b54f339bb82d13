package org.activemirroring.transport;

import java.util.Set;

/** Told when the set of reachable mirrors changes (node ids, this node included). */
@FunctionalInterface
public interface MembershipListener {
    void membersChanged(Set<String> members);
}
