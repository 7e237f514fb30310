package io.xensnap.internal.engine.reconcile;

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
import io.xensnap.internal.engine.OverlayFiles;
import io.xensnap.internal.engine.OwnNames;
import io.xensnap.internal.engine.reconcile.ReconcileReport.Code;
import io.xensnap.internal.qemuimg.ImageInfo;
import io.xensnap.internal.qemuimg.QemuImgException;

/**
 * Finds files that xensnap made for a domain and that nothing references any more, and removes those that provably
 * hold nothing. A file is removed only when all of this holds:
 *
 * <ul>
 *   <li>the domain's catalog records it as made by xensnap ({@link io.xensnap.internal.catalog.DomainCatalog#made()}):
 *       a name proves nothing, an operator may name a file of their own as xensnap would;</li>
 *   <li>it is a regular file (not a link) with a qcow2 header whose backing file is one of the domain's images;</li>
 *   <li>no catalog of any domain, no xenstore backend of any running domain, no chain QEMU runs for this domain and no
 *       qcow2 header in the same directory names it;</li>
 *   <li>its top layer holds nothing ({@code qemu-img map}), so removing it cannot lose a byte the guest wrote.</li>
 * </ul>
 * A recorded file that holds data is reported ({@code ORPHAN_KEPT}) and left in place. A file the catalog does not
 * record, named as xensnap names overlays ({@code <image-stem>.<snapshot>.qcow2}) or set-aside files
 * ({@code <image>.xensnap-old}) and sitting on one of the domain's images, is reported ({@code UNKNOWN_FILE}) and
 * never touched.
 */
final class OrphanScan {

    private final ImageHeaders headers;
    private final OverlayFiles overlayFiles;
    private final Findings findings;

    OrphanScan(ImageHeaders headers, OverlayFiles overlayFiles, Findings findings) {
        this.headers = headers;
        this.overlayFiles = overlayFiles;
        this.findings = findings;
    }

    /**
     * @param own        every file that is, or was, an image of this domain
     * @param referenced every file named anywhere (this and every other domain); {@code own} is part of it
     * @param made       the files the domain's catalog records as made by xensnap
     * @return whether a file was removed
     */
    boolean run(Set<Path> own, Set<Path> referenced, List<Path> made) {
        boolean removed = false;
        Set<Path> dirs = new TreeSet<>();
        own.stream().map(Path::getParent).filter(p -> p != null && Files.isDirectory(p)).forEach(dirs::add);
        made.stream().map(Path::getParent).filter(p -> p != null && Files.isDirectory(p)).forEach(dirs::add);
        for (Path dir : dirs) {
            List<Path> recorded = new ArrayList<>();
            List<Path> unknown = new ArrayList<>();
            List<Path> siblings = new ArrayList<>();
            try (Stream<Path> files = Files.list(dir)) {
                for (Path f : files.sorted().toList()) {
                    siblings.add(f);
                    if (referenced.contains(f)) {
                        continue;
                    }
                    if (made.contains(f)) {
                        recorded.add(f);
                    } else if (named(f, own)) {
                        unknown.add(f);
                    }
                }
            } catch (IOException e) {
                findings.reported(Code.PEER_UNREACHABLE, dir.toString(), "cannot list the directory for overlays"
                        + " nobody references: " + e.getMessage());
                continue;
            }
            for (Path c : recorded) {
                removed |= check(c, own, siblings);
            }
            for (Path c : unknown) {
                unknown(c, own, siblings);
            }
        }
        return removed;
    }

    /** @return whether {@code candidate}, recorded as made by xensnap, was removed */
    private boolean check(Path candidate, Set<Path> own, List<Path> siblings) {
        try {
            Optional<Path> backing = ownOverlay(candidate, own);
            if (backing.isEmpty()) {
                findings.reported(Code.ORPHAN_KEPT, candidate.toString(), "recorded as made by xensnap, but it is no"
                        + " longer a qcow2 overlay of one of the domain's images; left in place");
                return false;
            }
            if (namedBySibling(candidate, siblings)) {
                return false;
            }
            if (headers.holdsData(candidate)) {
                findings.reported(Code.ORPHAN_KEPT, candidate.toString(), "an overlay of " + backing.get()
                        + " that xensnap made and nothing references, but it holds data of its own; left in place");
                return false;
            }
            overlayFiles.remove(candidate);
            headers.forget(candidate);
            findings.repaired(Code.ORPHAN_REMOVED, candidate.toString(), "an empty overlay of " + backing.get()
                    + " that xensnap made (its catalog records it) and that no catalog, xenstore backend, QEMU chain or"
                    + " image header references; removed");
            return true;
        } catch (QemuImgException e) {
            findings.reported(Code.ORPHAN_KEPT, candidate.toString(), "recorded as made by xensnap, but qemu-img"
                    + " cannot read it: " + e.getMessage() + "; left in place");
            return false;
        } catch (IOException e) {
            findings.reported(Code.REPAIR_FAILED, candidate.toString(), "cannot remove an empty overlay nobody"
                    + " references: " + e.getMessage());
            return false;
        }
    }

    /** A file named like ours that no catalog records as made: reported, never touched. */
    private void unknown(Path candidate, Set<Path> own, List<Path> siblings) {
        try {
            Optional<Path> backing = ownOverlay(candidate, own);
            if (backing.isEmpty() || namedBySibling(candidate, siblings)) {
                return;
            }
            findings.reported(Code.UNKNOWN_FILE, candidate.toString(), "an overlay of " + backing.get() + " named as"
                    + " xensnap names its files, but no catalog records xensnap making it and nothing references it;"
                    + " left in place. Remove it yourself if nobody needs it");
        } catch (QemuImgException e) {
            // not an image qemu-img can read as qcow2: nothing that could be mistaken for an overlay of ours
            return;
        }
    }

    /** @return the backing file of {@code f} when it is a regular qcow2 file sitting on one of {@code own} */
    private Optional<Path> ownOverlay(Path f, Set<Path> own) throws QemuImgException {
        if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
            return Optional.empty();
        }
        Optional<ImageInfo> info = headers.info(f, "qcow2");
        if (info.isEmpty() || !info.get().format().equals("qcow2")) {
            return Optional.empty();
        }
        return info.get().fullBackingFilename().map(Path::of).filter(own::contains);
    }

    private boolean namedBySibling(Path candidate, List<Path> siblings) throws QemuImgException {
        for (Path s : siblings) {
            if (!s.equals(candidate) && s.getFileName().toString().endsWith(".qcow2")
                    && Files.isRegularFile(s, LinkOption.NOFOLLOW_LINKS)
                    && headers.backing(s).filter(candidate::equals).isPresent()) {
                return true;
            }
        }
        return false;
    }

    /** {@code <stem>.<snapshot>.qcow2} beside an own image {@code <stem>.<ext>}, or {@code <own image>.xensnap-old}. */
    private static boolean named(Path f, Set<Path> own) {
        String name = f.getFileName().toString();
        for (Path o : own) {
            if (!f.getParent().equals(o.getParent())) {
                continue;
            }
            String file = o.getFileName().toString();
            if (name.equals(file + OwnNames.SET_ASIDE_SUFFIX)) {
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
