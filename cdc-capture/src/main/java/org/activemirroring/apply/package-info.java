/**
 * Applying other mirrors' ChangeSets to this mirror's database:
 * {@link org.activemirroring.apply.ChangeSetApplier} applies each as one local transaction that
 * also advances the applied vector, enforces the conflict rule and the dependency gate, and
 * parks what fails for good ({@link org.activemirroring.apply.ParkedChanges}) so that the
 * operator can retry or discard it. The SQL it runs comes from a
 * {@link org.activemirroring.db.Dialect}.
 */
package org.activemirroring.apply;
