package io.xensnap.bench;

import io.xensnap.internal.engine.EngineHooks;
import io.xensnap.internal.engine.create.CreatePlan;

/**
 * Times the phases of a live create from outside the engine, through the hook points the engine already has for its
 * fault tests ({@link EngineHooks}): nothing in the engine changes for the benchmark. It lives in the bench's own
 * package: a class of another jar in one of the bundle's packages would be a split package.
 *
 * <p>Phases of one create: <b>prepare</b> (call → just before the QMP transaction: xenstore reads, QMP connect and
 * queries, libxl lock, the catalog's pending mark), <b>transaction</b> (the QMP {@code transaction} round trip),
 * <b>finish</b> (point of no return → return: libxl config, xenstore backend, catalog). One create at a time.
 */
public final class PhaseProbe {

    private long beforeTransaction;
    private long afterTransaction;

    /** @return the hook points that report an engine's phases to this probe */
    public EngineHooks hooks() {
        return new EngineHooks() {
            @Override
            public void beforeTransaction(CreatePlan plan) {
                beforeTransaction = System.nanoTime();
            }

            @Override
            public void afterPointOfNoReturn(CreatePlan plan) {
                afterTransaction = System.nanoTime();
            }
        };
    }

    /** @return nanoTime just before the transaction of the last create */
    public long beforeTransaction() {
        return beforeTransaction;
    }

    /** @return nanoTime right after the transaction of the last create */
    public long afterTransaction() {
        return afterTransaction;
    }
}
