package io.xensnap.internal.libxl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The guest agent's channel as libxl 4.17 records it in the userdata JSON (a keyed union {@code connection.socket}, no
 * {@code connection} field; the file ends with a NUL), after the placeholder channel that works around xl's devid 0.
 */
class DomainConfigChannelsTest {

    private static final LibxlDomain DOM = new LibxlDomain(1, UUID.fromString("2b5a4c1e-1111-4222-8333-944455556666"));
    private static final String AGENT = "org.qemu.guest_agent.0";

    @TempDir
    Path xenLib;

    private Optional<Path> channel(String channels) throws Exception {
        String json = "{\n    \"c_info\": {\n        \"type\": \"pv\",\n        \"name\": \"domu\"\n    },\n"
                + "    \"b_info\": {},\n" + channels + "    \"on_reboot\": \"restart\"\n}\n\0";
        Files.writeString(xenLib.resolve("userdata-d.1." + DOM.uuid() + ".libxl-json"), json, StandardCharsets.UTF_8);
        return new DomainConfigStore(xenLib, Clock.systemUTC(), Duration.ofSeconds(1)).channelSocket(DOM, AGENT);
    }

    @Test
    void theAgentsSocketChannelIsFoundBehindThePlaceholder() throws Exception {
        assertThat(channel("""
                    "channels": [
                        {
                            "devid": 0,
                            "name": "placeholder.devid0",
                            "connection.socket": {
                                "path": "/var/run/xen/unused-domu.sock"
                            }
                        },
                        {
                            "devid": 1,
                            "name": "org.qemu.guest_agent.0",
                            "connection.socket": {
                                "path": "/var/run/xen/qga-domu.sock"
                            }
                        }
                    ],
                """)).contains(Path.of("/var/run/xen/qga-domu.sock"));
    }

    @Test
    void noChannelsAnotherNameOrAPtyChannelIsNoAgentChannel() throws Exception {
        assertThat(channel("")).isEmpty();
        assertThat(channel("    \"channels\": [{\"devid\": 1, \"name\": \"other\", \"connection.socket\": "
                + "{\"path\": \"/run/x.sock\"}}],\n")).isEmpty();
        assertThat(channel("    \"channels\": [{\"devid\": 1, \"name\": \"" + AGENT + "\", \"connection.pty\": {}}],\n"))
                .isEmpty();
    }

    @Test
    void aRelativeSocketPathIsAMalformedConfig() {
        assertThatThrownBy(() -> channel("    \"channels\": [{\"devid\": 1, \"name\": \"" + AGENT
                + "\", \"connection.socket\": {\"path\": \"run/qga.sock\"}}],\n"))
                .isInstanceOfSatisfying(LibxlConfigException.class,
                        e -> assertThat(e.reason()).isEqualTo(LibxlConfigException.Reason.MALFORMED));
    }
}
