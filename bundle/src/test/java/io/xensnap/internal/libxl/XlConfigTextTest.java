package io.xensnap.internal.libxl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.xensnap.harness.XlDryRun;
import io.xensnap.internal.qemuimg.JdkProcessRunner;
import io.xensnap.internal.xl.XlDomainControl;

/**
 * The xl.cfg written from a kept config, read back by Xen 4.17's real xl (its dry run, {@link XlDryRun}): for configs
 * libxl wrote on a Xen host for domains created from an xl.cfg (a PV domain with two qdisks, a network interface and
 * two channels; the same with a blkback disk attached later; a PVH domain), xl parses back exactly the kept config but
 * for the fields libxl fills in itself. A field the text cannot carry is named and refused.
 */
class XlConfigTextTest {

    @TempDir
    Path dir;

    private final XlDomainControl xl = new XlDomainControl(new JdkProcessRunner(), XlDryRun.xl(),
            Duration.ofSeconds(30));

    @ParameterizedTest
    @ValueSource(strings = {"kept-pv.libxl-json", "kept-pv-blkback.libxl-json", "kept-pvh.libxl-json"})
    void xlParsesBackTheKeptConfig(String resource) throws Exception {
        byte[] kept = resource(resource);
        String parsed = parse(XlConfigText.render(kept, resource));
        ConfigMatch.require(kept, parsed, resource);
    }

    @Test
    void namesWithQuotesBackslashesAndTabsAndADiskPathWithACommaSurviveTheText() throws Exception {
        ObjectNode config = tree("kept-pv.libxl-json");
        ((ObjectNode) config.get("c_info")).put("name", "web \"prod\" \\ A\tB Zürich");
        ((ObjectNode) config.get("b_info")).put("cmdline", "console=hvc0 root=\"/dev/xvda1\" x=\\y");
        ((ObjectNode) config.get("disks").get(0)).put("pdev_path", "/images/a, b \"c\".qcow2");
        config.put("on_crash", "coredump_restart");
        byte[] kept = bytes(config);
        ConfigMatch.require(kept, parse(XlConfigText.render(kept, "edited")), "edited");
    }

    /**
     * A domain restored from a save image stores the config libxl retrieved from the running domain: its scheduler
     * and the scheduler's parameters filled in (seen on a Xen 4.17 host after {@code xl save} and {@code xl restore}).
     */
    @Test
    void aConfigThatWentThroughSaveAndRestoreKeepsItsSchedulerParameters() throws Exception {
        ObjectNode config = tree("kept-pv-blkback.libxl-json");
        ((ObjectNode) config.get("b_info")).putObject("sched_params").put("sched", "credit2").put("weight", 512)
                .put("cap", 50);
        byte[] kept = bytes(config);
        String text = XlConfigText.render(kept, "restored");
        assertThat(text).contains("cpu_weight = 512").contains("cap = 50");
        ConfigMatch.require(kept, parse(text), "restored");
    }

    @Test
    void aFieldTheTextDoesNotCarryIsNamedAndRefused() throws Exception {
        ObjectNode config = tree("kept-pv.libxl-json");
        ((ObjectNode) config.get("b_info")).put("max_grant_frames", 64);
        ArrayNode pci = config.putArray("pcidevs");
        pci.addObject().put("func", 1).put("dev", 2).put("bus", 3);
        byte[] kept = bytes(config);
        String parsed = parse(XlConfigText.render(kept, "with-pci"));
        assertThatThrownBy(() -> ConfigMatch.require(kept, parsed, "with-pci"))
                .isInstanceOfSatisfying(LibxlConfigException.class, e -> {
                    assertThat(e.reason()).isEqualTo(LibxlConfigException.Reason.NOT_CARRIED);
                    assertThat(e.getMessage()).contains("b_info.max_grant_frames unset instead of 64")
                            .contains("pcidevs unset instead of [{\"func\":1");
                });
    }

    @Test
    void aChangedValueIsADifferenceToo() throws Exception {
        byte[] kept = resource("kept-pvh.libxl-json");
        ObjectNode other = tree("kept-pvh.libxl-json");
        ((ObjectNode) other.get("b_info")).put("target_memkb", 65536);
        String parsed = parse(XlConfigText.render(bytes(other), "other"));
        assertThatThrownBy(() -> ConfigMatch.require(kept, parsed, "kept"))
                .isInstanceOfSatisfying(LibxlConfigException.class, e -> assertThat(e.getMessage())
                        .contains("b_info.target_memkb = 65536 instead of 131072"));
    }

    @Test
    void valuesXlCfgCannotHoldAreRefusedBeforeAnyTextIsWritten() throws Exception {
        ObjectNode control = tree("kept-pv.libxl-json");
        ((ObjectNode) control.get("b_info")).put("cmdline", "console=hvc0\nquiet");
        ObjectNode oddMemory = tree("kept-pv.libxl-json");
        ((ObjectNode) oddMemory.get("b_info")).put("target_memkb", 131073);
        ObjectNode sparseVcpus = tree("kept-pv.libxl-json");
        ((ArrayNode) sparseVcpus.get("b_info").get("avail_vcpus")).removeAll().add(1);
        for (ObjectNode config : new ObjectNode[] {control, oddMemory, sparseVcpus}) {
            assertThatThrownBy(() -> XlConfigText.render(bytes(config), "odd"))
                    .isInstanceOfSatisfying(LibxlConfigException.class,
                            e -> assertThat(e.reason()).isEqualTo(LibxlConfigException.Reason.NOT_CARRIED));
        }
    }

    private String parse(String text) throws Exception {
        Path cfg = Files.writeString(dir.resolve("domain.cfg"), text, StandardCharsets.UTF_8);
        return xl.parse(cfg);
    }

    private static byte[] resource(String name) throws Exception {
        try (InputStream in = XlConfigTextTest.class.getResourceAsStream(name)) {
            return in.readAllBytes();
        }
    }

    private static ObjectNode tree(String name) throws Exception {
        return DomainConfigJson.parse(resource(name), name);
    }

    private static byte[] bytes(ObjectNode config) {
        return DomainConfigJson.print(config);
    }
}
