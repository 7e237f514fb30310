package io.xensnap.internal.xenstore;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class XenstoreSocketPathTest {

    private static final Map<String, String> BOTH = Map.of("XENSTORED_PATH", "/e/path", "XENSTORED_RUNDIR", "/e/run");

    @Test
    void configuredPathWinsOverEnvironment() {
        assertThat(XenstoreSocketPath.resolve("/conf/socket", BOTH::get)).isEqualTo(Path.of("/conf/socket"));
    }

    @Test
    void xenstoredPathComesBeforeRunDir() {
        assertThat(XenstoreSocketPath.resolve(null, BOTH::get)).isEqualTo(Path.of("/e/path"));
        assertThat(XenstoreSocketPath.resolve(" ", BOTH::get)).isEqualTo(Path.of("/e/path"));
    }

    @Test
    void runDirGivesItsSocket() {
        assertThat(XenstoreSocketPath.resolve(null, Map.of("XENSTORED_RUNDIR", "/e/run")::get))
                .isEqualTo(Path.of("/e/run/socket"));
    }

    @Test
    void defaultIsTheCompiledInPath() {
        assertThat(XenstoreSocketPath.resolve("", Map.<String, String>of()::get))
                .isEqualTo(Path.of("/var/run/xenstored/socket"));
    }
}
