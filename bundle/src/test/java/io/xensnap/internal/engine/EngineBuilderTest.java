package io.xensnap.internal.engine;

import static org.assertj.core.api.Assertions.assertThatIllegalStateException;
import static org.assertj.core.api.Assertions.assertThatNullPointerException;

import java.time.Duration;

import org.junit.jupiter.api.Test;

class EngineBuilderTest {

    // never called: build() refuses before an engine exists
    private static final Connectors.Xenstore NO_XENSTORE = () -> {
        throw new AssertionError("no xenstore connection while building");
    };
    private static final Connectors.Qmp NO_QMP = domid -> {
        throw new AssertionError("no QMP connection while building");
    };

    @Test
    void aPartLeftOutIsNamed() {
        assertThatNullPointerException()
                .isThrownBy(() -> new EngineBuilder(NO_XENSTORE, NO_QMP).parallelism(2)
                        .jobTimeout(Duration.ofMinutes(1)).build())
                .withMessage("qemuImg");
        assertThatIllegalStateException()
                .isThrownBy(() -> new EngineBuilder(NO_XENSTORE, NO_QMP).build())
                .withMessageContaining("parallelism must be at least 1");
    }
}
