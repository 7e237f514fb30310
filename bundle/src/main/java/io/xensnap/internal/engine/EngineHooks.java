package io.xensnap.internal.engine;

import io.xensnap.internal.engine.create.CreatePlan;

/**
 * Points inside an operation where tests inject faults that no peer can be made to produce on cue (a directory
 * vanishing between validation and the transaction, the process dying between two writes). Production uses
 * {@link #NONE}; every hook is a no-op there.
 */
public interface EngineHooks {

    EngineHooks NONE = new EngineHooks() {
    };

    /** A hook call. */
    @FunctionalInterface
    interface Step {
        void run() throws Exception;
    }

    /**
     * Just before the QMP transaction of a live create is sent (the catalog already marks the create pending); for a
     * create that restores the domain ({@code RestoringCreate}), just before {@code xl restore} on the new images.
     */
    default void beforeTransaction(CreatePlan plan) throws Exception {
    }

    /**
     * Live create: the guest agent answered the freeze (the guest's file systems are frozen), the QMP transaction is
     * sent next. Not called when the create does not freeze.
     */
    default void whileFrozen(CreatePlan plan) throws Exception {
    }

    /** Just after the point of no return of a live create, before libxl's config, xenstore and the catalog. */
    default void afterPointOfNoReturn(CreatePlan plan) throws Exception {
    }

    /** Live create: libxl's config names the overlays, xenstore and the catalog do not yet. */
    default void afterLibxlConfig(CreatePlan plan) throws Exception {
    }

    /** Live create: libxl's config and xenstore name the overlays, the catalog does not yet. */
    default void afterXenstore(CreatePlan plan) throws Exception {
    }

    /** Delete: the catalog marks the delete pending, no image has changed yet. */
    default void beforeMerge(String domainUuid, String snapshot) throws Exception {
    }

    /**
     * Live delete: the merge job of {@code vdev} is in QEMU with {@code status} (called at each progress reading that
     * differs from the last, before the engine acts on it: while the job runs, with none of libxl's locks held, and
     * during the pivot); the catalog marks the disk as begun.
     */
    default void merging(String domainUuid, String snapshot, String vdev, String status) throws Exception {
    }

    /** Live delete: every disk of the snapshot is merged or its internal snapshot deleted; libxl and xenstore next. */
    default void afterMerge(String domainUuid, String snapshot) throws Exception {
    }

    /** Delete: images, libxl's config and xenstore are done, the catalog still lists the snapshot as pending. */
    default void beforeDeleteCommit(String domainUuid, String snapshot) throws Exception {
    }

    /**
     * Revert: {@code step} is done. The steps, in order ({@code <vdev>} steps of one phase run in parallel):
     * {@code marked} (the catalog marks the revert, no image changed), {@code undo <vdev>} (the disk holds its undo
     * snapshot), {@code undo points marked}, {@code set aside <vdev>}, {@code applied <vdev>}, {@code committed} (the
     * catalog records the revert and marks the cleanup), {@code cleaned <vdev>}.
     */
    default void revertStep(String domainUuid, String snapshot, String step) throws Exception {
    }

    /** Runs a hook; a checked exception from a test hook is a defect of the test. */
    static void call(Step step) {
        try {
            step.run();
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("test hook failed", e);
        }
    }
}
