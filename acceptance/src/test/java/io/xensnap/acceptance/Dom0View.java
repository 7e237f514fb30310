package io.xensnap.acceptance;

import static io.xensnap.acceptance.Acceptance.minutes;
import static io.xensnap.acceptance.Acceptance.sh;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.xensnap.harness.XenBed;

/**
 * What dom0's own tools say, read in dom0 with them: xenstore, libxl ({@code xl list -l}), the image chain
 * ({@code qemu-img info -U}), and xensnap's catalog file. Nothing here goes through xensnap.
 */
final class Dom0View {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final XenBed bed;

    Dom0View(XenBed bed) {
        this.bed = bed;
    }

    /** The qdisk backend's {@code params} of disk {@code devid} of domain {@code domid}. */
    String params(int domid, int devid) {
        return bed.run(minutes(1), "xenstore-read", "/local/domain/0/backend/qdisk/" + domid + "/" + devid + "/params")
                .orThrow().stdout().strip();
    }

    /** libxl's disks of {@code domain}: vdev to "format pdev_path", as {@code xl list -l} prints them. */
    Map<String, String> libxlDisks(String domain) {
        try {
            JsonNode list = JSON.readTree(bed.run(minutes(1), "xl", "list", "-l", domain).orThrow().stdout());
            Map<String, String> disks = new LinkedHashMap<>();
            for (JsonNode d : list.get(0).path("config").path("disks")) {
                disks.put(d.path("vdev").asText(), d.path("format").asText() + " " + d.path("pdev_path").asText());
            }
            return disks;
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * libxl's disk {@code vdev} of {@code domain} with its backend: "backend format pdev_path"
     * ({@code phy raw /dev/loop0}, {@code qdisk qcow2 /images/x.qcow2}), as {@code xl list -l} prints it; "" when libxl
     * has no such disk.
     */
    String libxlDisk(String domain, String vdev) {
        try {
            JsonNode list = JSON.readTree(bed.run(minutes(1), "xl", "list", "-l", domain).orThrow().stdout());
            for (JsonNode d : list.get(0).path("config").path("disks")) {
                if (d.path("vdev").asText().equals(vdev)) {
                    return d.path("backend").asText() + " " + d.path("format").asText() + " "
                            + d.path("pdev_path").asText();
                }
            }
            return "";
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The backing chain from {@code image} down: "path format" per image. */
    List<String> chain(String image) {
        try {
            JsonNode chain = JSON.readTree(bed.run(minutes(1), "qemu-img", "info", "-U", "--backing-chain",
                    "--output=json", image).orThrow().stdout());
            List<String> out = new ArrayList<>();
            for (JsonNode i : chain) {
                out.add(i.path("filename").asText() + " " + i.path("format").asText());
            }
            return out;
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The names of the internal snapshots in {@code image}. */
    List<String> internalSnapshots(String image) {
        try {
            JsonNode info = JSON.readTree(bed.run(minutes(1), "qemu-img", "info", "-U", "--output=json", image)
                    .orThrow().stdout());
            List<String> names = new ArrayList<>();
            info.path("snapshots").forEach(s -> names.add(s.path("name").asText()));
            return names;
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * xensnap's catalog of the domain as it stands now, or "" when there is none: the last record of its journal when
     * the journal holds one (each record is the whole catalog on one line; docs/reliability.md, *How the catalog
     * reaches the disk*), else the catalog file.
     */
    String catalog(String uuid) {
        String f = "/var/lib/xensnap/domains/" + uuid;
        return bed.run(minutes(1), "sh", "-c", "if grep -aqs '^{' " + f + ".journal; then grep -a '^{' " + f
                + ".journal | tail -n 1; else cat " + f + ".json 2>/dev/null; fi; true").orThrow().stdout();
    }

    /**
     * xensnap's state of the domain as it stands now, pending marks included: its catalog (the mark is part of it). The
     * files are not read whole: the journal keeps earlier records (an old mark among them) and binary framing.
     */
    String stateFiles(String uuid) {
        return catalog(uuid);
    }

    /** Whether the device model of domain {@code domid} has {@code file} open. */
    boolean qemuHolds(int domid, String file) {
        return bed.run(minutes(1), "sh", "-c", "p=$(pgrep -f -- '[-]xen-domid " + domid + " ') && ls -l /proc/$p/fd"
                + " | grep -q ' " + file + "$'").exitCode() == 0;
    }

    /** Karaf's log in dom0 ({@code data/log/karaf.log}), as far as it goes now. */
    String karafLog() {
        return bed.run(minutes(1), "cat", Dom0Karaf.HOME + "/data/log/karaf.log").orThrow().stdout();
    }

    /**
     * Sets {@code key} in a Karaf .cfg file the way docs/configuration.md says: a copy edited beside it under a name
     * Karaf's file installer ignores, then renamed over it, so that no scan can read it half written.
     */
    void setConfig(String file, String key, String value) {
        sh(bed, minutes(1), "f=" + file + "; grep -v '^" + key + " *=' $f >$f.new; echo '" + key + " = " + value
                + "' >>$f.new; mv $f.new $f");
    }

    String sha256(String file) {
        return sh(bed, minutes(2), "sha256sum " + file).split(" ")[0];
    }

    boolean exists(String file) {
        return bed.run(minutes(1), "test", "-e", file).exitCode() == 0;
    }

    /** How long {@code command} takes in dom0, timed there (the agent's own delay left out). */
    Duration timed(String command) {
        String out = sh(bed, minutes(2), "s=$(date +%s%N); " + command + " >/dev/null; e=$(date +%s%N);"
                + " echo $(( (e - s) / 1000000 ))");
        return Duration.ofMillis(Long.parseLong(out.strip()));
    }

    /** Whether QEMU of {@code domain} runs one of xensnap's merge jobs (asked through xl, as an operator would). */
    boolean mergeJobRunning(String domain) {
        return bed.run(minutes(1), "xl", "qemu-monitor-command", domain, "info block-jobs").orThrow().stdout()
                .contains("commit");
    }

    void awaitMergeJob(String domain, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!mergeJobRunning(domain)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("no merge job in " + domain + "'s QEMU within " + timeout);
            }
        }
    }

    /** Whether the guest's record {@code n} is in {@code image} (read through its chain, sharing QEMU's lock). */
    boolean recordIn(String image, String format, long n) {
        String out = bed.run(minutes(1), "qemu-io", "-r", "-U", "-f", format, "-c",
                "read -v " + Guest.recordOffset(n) + " 16", image).orThrow().stdout();
        // qemu-io -v dumps hex, then the bytes with every one that is not a letter or digit as "."; the record is
        // "XSREC <n>\n"
        return out.contains("XSREC." + n + ".");
    }
}
