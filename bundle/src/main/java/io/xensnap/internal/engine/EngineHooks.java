package io.xensnap.internal.engine;

/**
 * Points inside an operation where tests inject faults that no peer can be made to produce on cue (a directory
 * vanishing between validation and the transaction, a crash right after the point of no return). Production uses
 * {@link #NONE}.
 */
interface EngineHooks {

    EngineHooks NONE = new EngineHooks() {
    };

    /** A hook call. */
    @FunctionalInterface
    interface Step {
        void run() throws Exception;
    }

    /** Just before the QMP transaction of a live create is sent. */
    default void beforeTransaction(CreatePlan plan) throws Exception {
    }

    /** Just after the point of no return of a live create, before libxl's config, xenstore and the catalog. */
    default void afterPointOfNoReturn(CreatePlan plan) throws Exception {
    }
}
