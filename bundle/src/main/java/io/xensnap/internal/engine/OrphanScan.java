package io.xensnap.internal.engine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import io.xensnap.api.Names;
import io.xensnap.internal.engine.ReconcileReport.Code;
import io.xensnap.internal.qemuimg.ImageInfo;
import io.xensnap.internal.qemuimg.QemuImgException;

/**
 * Finds overlay files that xensnap made for a domain and that nothing references any more, and removes those that
 * provably hold nothing. A file is removed only when all of this holds:
 *
 * <ul>
 *   <li>it lies beside one of the domain's images and is named as xensnap names overlays
 *       ({@code <image-stem>.<snapshot>.qcow2}) or set-aside files ({@code <image>.xensnap-old});</li>
 *   <li>it is a regular file (not a link) with a qcow2 header whose backing file is one of the domain's images;</li>
 *   <li>no catalog of any domain, no xenstore backend of any running domain, no chain QEMU runs for this domain and no
 *       qcow2 header in the same directory names it;</li>
 *   <li>its top layer holds nothing ({@code qemu-img map}), so removing it cannot lose a byte the guest wrote.</li>
 * </ul>
 * A candidate that holds data is reported and left in place.
 */
final class OrphanScan {

    private static final String SET_ASIDE = ".xensnap-old";

    private final ImageHeaders headers;
    private final Findings findings;

    OrphanScan(ImageHeaders headers, Findings findings) {
        this.headers = headers;
        this.findings = findings;
    }

    /**
     * @param own        every file that is, or was, an image of this domain
     * @param referenced every file named anywhere (this and every other domain); {@code own} is part of it
     */
    void run(Set<Path> own, Set<Path> referenced) {
        Set<Path> dirs = new TreeSet<>();
        own.stream().map(Path::getParent).filter(p -> p != null && Files.isDirectory(p)).forEach(dirs::add);
        for (Path dir : dirs) {
            List<Path> candidates = new ArrayList<>();
            List<Path> siblings = new ArrayList<>();
            try (Stream<Path> files = Files.list(dir)) {
                for (Path f : files.sorted().toList()) {
                    siblings.add(f);
                    if (!referenced.contains(f) && named(f, own)) {
                        candidates.add(f);
                    }
                }
            } catch (IOException e) {
                findings.reported(Code.PEER_UNREACHABLE, dir.toString(), "cannot list the directory for overlays"
                        + " nobody references: " + e.getMessage());
                continue;
            }
            for (Path c : candidates) {
                check(c, own, siblings);
            }
        }
    }

    private void check(Path candidate, Set<Path> own, List<Path> siblings) {
        try {
            if (!Files.isRegularFile(candidate, LinkOption.NOFOLLOW_LINKS)) {
                return;
            }
            Optional<ImageInfo> info = headers.info(candidate, "qcow2");
            if (info.isEmpty() || !info.get().format().equals("qcow2")) {
                return;
            }
            Optional<Path> backing = info.get().fullBackingFilename().map(Path::of);
            if (backing.isEmpty() || !own.contains(backing.get())) {
                return;
            }
            for (Path s : siblings) {
                if (!s.equals(candidate) && s.getFileName().toString().endsWith(".qcow2")
                        && Files.isRegularFile(s, LinkOption.NOFOLLOW_LINKS)
                        && headers.backing(s).filter(candidate::equals).isPresent()) {
                    return;
                }
            }
            if (headers.holdsData(candidate)) {
                findings.reported(Code.ORPHAN_KEPT, candidate.toString(), "an overlay of " + backing.get()
                        + " that nothing references, but it holds data of its own; left in place");
                return;
            }
            Files.delete(candidate);
            headers.forget(candidate);
            findings.repaired(Code.ORPHAN_REMOVED, candidate.toString(), "an empty overlay of " + backing.get()
                    + " that no catalog, xenstore backend, QEMU chain or image header references; removed");
        } catch (QemuImgException e) {
            // not an image qemu-img can read as qcow2: not one of ours
            return;
        } catch (IOException e) {
            findings.reported(Code.REPAIR_FAILED, candidate.toString(), "cannot remove an empty overlay nobody"
                    + " references: " + e.getMessage());
        }
    }

    /** {@code <stem>.<snapshot>.qcow2} beside an own image {@code <stem>.<ext>}, or {@code <own image>.xensnap-old}. */
    private static boolean named(Path f, Set<Path> own) {
        String name = f.getFileName().toString();
        for (Path o : own) {
            if (!f.getParent().equals(o.getParent())) {
                continue;
            }
            String file = o.getFileName().toString();
            if (name.equals(file + SET_ASIDE)) {
                return true;
            }
            int dot = file.lastIndexOf('.');
            String stem = (dot > 0 ? file.substring(0, dot) : file) + ".";
            if (name.startsWith(stem) && name.endsWith(".qcow2") && name.length() > stem.length() + 6
                    && validName(name.substring(stem.length(), name.length() - 6))) {
                return true;
            }
        }
        return false;
    }

    private static boolean validName(String s) {
        try {
            Names.snapshot(s);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
