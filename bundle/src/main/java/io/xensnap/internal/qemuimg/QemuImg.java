package io.xensnap.internal.qemuimg;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.xensnap.internal.qemuimg.QemuImgException.Reason;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The qemu-img operations the engine needs, for images that no QEMU has open. Xen's qdisk opens images with
 * {@code locking=off}, so the image lock does not stop qemu-img from corrupting an image in use
 * (docs/qemu.md#locking-off): the caller must make sure the domain's QEMU is gone. {@code forceShare} ({@code -U})
 * reads are the only exception.
 */
public final class QemuImg {

    private static final Logger LOG = LoggerFactory.getLogger(QemuImg.class);

    private final ProcessRunner runner;
    private final String program;
    private final Duration timeout;
    private final ObjectMapper json;

    /**
     * @param program the qemu-img binary, e.g. {@code /usr/bin/qemu-img}
     * @param timeout bound for every single qemu-img run
     */
    public QemuImg(ProcessRunner runner, String program, Duration timeout, ObjectMapper json) {
        this.runner = Objects.requireNonNull(runner, "runner");
        this.program = Objects.requireNonNull(program, "program");
        this.timeout = Objects.requireNonNull(timeout, "timeout");
        this.json = Objects.requireNonNull(json, "json");
    }

    /**
     * {@code qemu-img info --output=json}.
     *
     * @param forceShare {@code -U}: read even while a QEMU holds the image (read-only; may see stale metadata)
     */
    public ImageInfo info(ImageFile image, boolean forceShare) throws QemuImgException {
        List<String> argv = argv("info", "--output=json", "-f", image.format());
        if (forceShare) {
            argv.add("-U");
        }
        argv.add(image.path().toString());
        ProcessResult r = runOk(argv);
        return imageInfo(r, parse(r));
    }

    /** {@code qemu-img info --output=json --backing-chain}: the layers from {@code image} down, top first. */
    public List<ImageInfo> backingChain(ImageFile image, boolean forceShare) throws QemuImgException {
        List<String> argv = argv("info", "--output=json", "--backing-chain", "-f", image.format());
        if (forceShare) {
            argv.add("-U");
        }
        argv.add(image.path().toString());
        ProcessResult r = runOk(argv);
        JsonNode layers = parse(r);
        if (!layers.isArray() || layers.isEmpty()) {
            throw badOutput(r, "expected a non-empty JSON array", null);
        }
        List<ImageInfo> chain = new ArrayList<>();
        for (JsonNode layer : layers) {
            chain.add(imageInfo(r, layer));
        }
        return chain;
    }

    /**
     * {@code qemu-img map --output=json}: whether the top layer of {@code image} holds anything of its own. A cluster
     * written with zeroes counts too, because it hides what the backing file has there. An overlay that holds
     * nothing can be removed without changing what the guest sees through it.
     *
     * @param forceShare {@code -U}: read even while a QEMU holds the image
     */
    public boolean holdsData(ImageFile image, boolean forceShare) throws QemuImgException {
        List<String> argv = argv("map", "--output=json", "-f", image.format());
        if (forceShare) {
            argv.add("-U");
        }
        argv.add(image.path().toString());
        ProcessResult r = runOk(argv);
        JsonNode extents = parse(r);
        if (!extents.isArray()) {
            throw badOutput(r, "expected a JSON array of extents", null);
        }
        for (JsonNode e : extents) {
            if (e.path("depth").asInt(-1) == 0 && e.path("present").asBoolean()) {
                return true;
            }
        }
        return false;
    }

    /**
     * {@code qemu-img snapshot -c}. Refuses what qemu-img would accept: an unusable name, or a name the image has
     * already (qemu-img would add a second snapshot with the same tag).
     */
    public void createSnapshot(ImageFile image, String name) throws QemuImgException {
        requireUsableName(name);
        if (!info(image, false).snapshotsNamed(name).isEmpty()) {
            throw QemuImgException.refused(Reason.DUPLICATE_NAME, "snapshot '" + name + "' exists already in "
                    + image.path());
        }
        runOk(argv("snapshot", "--image-opts", "-c", name, imageOpts(image)));
    }

    /**
     * {@code qemu-img snapshot -a}: reverts {@code image} to its snapshot {@code name}. Refuses a snapshot that lives
     * in a lower layer of the chain: qemu-img cannot apply it through the top, and applying it to the lower layer
     * directly would silently invalidate every overlay above (docs/qemu.md#guards).
     */
    public void applySnapshot(ImageFile image, String name) throws QemuImgException {
        requireInTopLayer(image, name);
        runOk(argv("snapshot", "--image-opts", "-a", name, imageOpts(image)));
    }

    /** {@code qemu-img snapshot -d}, with the same checks as {@link #applySnapshot}. */
    public void deleteSnapshot(ImageFile image, String name) throws QemuImgException {
        requireInTopLayer(image, name);
        runOk(argv("snapshot", "--image-opts", "-d", name, imageOpts(image)));
    }

    /**
     * {@code qemu-img snapshot -c} with the checks of {@link #createSnapshot(ImageFile, String)} made against
     * {@code chain}, which the caller read with {@link #backingChain} and which nothing can have changed since (the
     * caller holds the image): one qemu-img process instead of two.
     */
    public void createSnapshot(ImageFile image, String name, List<ImageInfo> chain) throws QemuImgException {
        requireUsableName(name);
        if (!topOf(image, chain).snapshotsNamed(name).isEmpty()) {
            throw QemuImgException.refused(Reason.DUPLICATE_NAME, "snapshot '" + name + "' exists already in "
                    + image.path());
        }
        runOk(argv("snapshot", "--image-opts", "-c", name, imageOpts(image)));
    }

    /**
     * {@code qemu-img snapshot -a} with the checks of {@link #applySnapshot(ImageFile, String)} made against
     * {@code chain}, read by the caller as for {@link #createSnapshot(ImageFile, String, List)}.
     */
    public void applySnapshot(ImageFile image, String name, List<ImageInfo> chain) throws QemuImgException {
        requireInTopLayer(image, name, chain);
        runOk(argv("snapshot", "--image-opts", "-a", name, imageOpts(image)));
    }

    /**
     * {@code qemu-img snapshot -d} of a snapshot the caller made itself with
     * {@link #createSnapshot(ImageFile, String, List)} in {@code image} and has held the image since: that call
     * proved the name unique in the top layer, so nothing is read first.
     */
    public void deleteOwnSnapshot(ImageFile image, String name) throws QemuImgException {
        requireUsableName(name);
        runOk(argv("snapshot", "--image-opts", "-d", name, imageOpts(image)));
    }

    /**
     * The checks of {@link #applySnapshot(ImageFile, String)} on a chain already read: {@code name} exactly once in
     * the top layer of {@code image}.
     *
     * @throws QemuImgException DUPLICATE_NAME, SNAPSHOT_IN_OTHER_LAYER or NO_SUCH_SNAPSHOT
     */
    public static void requireInTopLayer(ImageFile image, String name, List<ImageInfo> chain)
            throws QemuImgException {
        requireUsableName(name);
        int inTop = topOf(image, chain).snapshotsNamed(name).size();
        if (inTop == 1) {
            return;
        }
        if (inTop > 1) {
            throw QemuImgException.refused(Reason.DUPLICATE_NAME, image.path() + " has " + inTop
                    + " snapshots named '" + name + "'; refusing to pick one");
        }
        for (ImageInfo lower : chain.subList(1, chain.size())) {
            if (!lower.snapshotsNamed(name).isEmpty()) {
                throw QemuImgException.refused(Reason.SNAPSHOT_IN_OTHER_LAYER, "snapshot '" + name + "' lives in "
                        + lower.filename() + ", a lower layer of " + image.path() + ", not in the image itself");
            }
        }
        throw QemuImgException.refused(Reason.NO_SUCH_SNAPSHOT, image.path() + " has no snapshot '" + name + "'");
    }

    private static ImageInfo topOf(ImageFile image, List<ImageInfo> chain) {
        if (chain.isEmpty() || !chain.get(0).format().equals(image.format())
                || !Path.of(chain.get(0).filename()).normalize().equals(image.path().normalize())) {
            throw new IllegalArgumentException("not the backing chain of " + image.path() + " as " + image.format()
                    + ": " + chain);
        }
        return chain.get(0);
    }

    /**
     * {@code qemu-img create -f qcow2 -b <backing> -F <fmt> [-o k=v,…] <overlay>}: a new, empty qcow2 overlay with
     * the backing's virtual size. Refuses to overwrite an existing file, which qemu-img would do.
     *
     * @param options extra creation options; commas in values are escaped as qemu-img's option syntax requires
     */
    public void createOverlay(Path overlay, ImageFile backing, Map<String, String> options) throws QemuImgException {
        if (!overlay.isAbsolute()) {
            throw new IllegalArgumentException("overlay path must be absolute: " + overlay);
        }
        if (Files.exists(overlay)) {
            throw QemuImgException.refused(Reason.FILE_EXISTS, "overlay " + overlay + " exists already");
        }
        // -b takes the path verbatim; only -o values go through the option parser
        List<String> argv = argv("create", "-q", "-f", "qcow2", "-b", backing.path().toString(),
                "-F", backing.format());
        if (!options.isEmpty()) {
            List<String> kv = new ArrayList<>();
            options.forEach((k, v) -> {
                if (!k.matches("[a-z0-9_.-]+")) {
                    throw new IllegalArgumentException("not a qemu-img option name: '" + k + "'");
                }
                kv.add(k + "=" + escapeOptionValue(v));
            });
            argv.add("-o");
            argv.add(String.join(",", kv));
        }
        argv.add(overlay.toString());
        runOk(argv);
    }

    /**
     * {@code qemu-img create -f qcow2 -b <backing> -F <fmt> [-u] <file> [size]} on a file the caller has just created
     * empty and exclusively (so it may be written over): formats it as a new, empty qcow2 overlay.
     *
     * @param file        where qemu-img reaches the new file, e.g. through a held directory descriptor
     * <p>With the size given, xensnap writes qemu-img's bytes itself ({@link EmptyOverlay}, flushed as qemu-img
     * flushes on close): the same file without a process start per overlay, the largest part of an external create's
     * own time. Sizes {@link EmptyOverlay} does not cover go to qemu-img.
     *
     * @param virtualSize the backing's virtual size in bytes; given, qemu-img does not open the backing ({@code -u}),
     *                    which a running domain's device model holds; {@code -1}: read it from the backing
     */
    public void formatOverlay(Path file, ImageFile backing, long virtualSize) throws QemuImgException {
        Optional<byte[]> bytes = virtualSize >= 0
                ? EmptyOverlay.of(backing.path().toString(), backing.format(), virtualSize) : Optional.empty();
        if (bytes.isPresent()) {
            writeOverlay(file, bytes.get());
            return;
        }
        List<String> argv = argv("create", "-q", "-f", "qcow2", "-b", backing.path().toString(),
                "-F", backing.format());
        if (virtualSize >= 0) {
            argv.add("-u");
        }
        argv.add(file.toString());
        if (virtualSize >= 0) {
            argv.add(Long.toString(virtualSize));
        }
        runOk(argv);
    }

    private static void writeOverlay(Path file, byte[] bytes) throws QemuImgException {
        // the file exists (made empty and exclusively by the caller) and is not followed if it became a link
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING,
                LinkOption.NOFOLLOW_LINKS)) {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(false);
        } catch (IOException e) {
            throw new QemuImgException(Reason.FAILED, List.of(), -1, "", "cannot write the qcow2 header of " + file
                    + ": " + e.getMessage(), e);
        }
    }

    /** {@code qemu-img commit}: writes {@code top}'s data into its backing file and empties {@code top}. */
    public void commit(ImageFile top) throws QemuImgException {
        runOk(argv("commit", "-q", "-f", top.format(), top.path().toString()));
    }

    /**
     * {@code qemu-img rebase -u -b <backing> -F <fmt>}: only the header of {@code image} changes to name
     * {@code backing}, no data is read or copied. Safe only when {@code backing} reads exactly as the old backing file
     * did, as a frozen overlay's backing image does once that overlay was committed into it.
     */
    public void rebaseUnsafe(ImageFile image, ImageFile backing) throws QemuImgException {
        runOk(argv("rebase", "-q", "-u", "-f", image.format(), "-b", backing.path().toString(), "-F",
                backing.format(), image.path().toString()));
    }

    /**
     * {@code qemu-img check --output=json}. Corruptions (exit 2) and leaks (exit 3) are results, not failures.
     *
     * @throws QemuImgException FAILED when the check could not run (exit 1, or 63 for a format without checks)
     */
    public CheckResult check(ImageFile image) throws QemuImgException {
        ProcessResult r = run(argv("check", "--output=json", "-f", image.format(), image.path().toString()));
        if (r.exitCode() != 0 && r.exitCode() != 2 && r.exitCode() != 3) {
            throw failed(r);
        }
        JsonNode c = parse(r);
        return new CheckResult(r.exitCode(), c.path("corruptions").asLong(), c.path("leaks").asLong(),
                c.path("check-errors").asLong());
    }

    /**
     * A name must not be empty and not consist of digits only: qemu-img looks snapshots up by id <em>or</em> name, so
     * {@code 1} could mean another snapshot's id.
     */
    public static void requireUsableName(String name) throws QemuImgException {
        if (name == null || name.isBlank()) {
            throw QemuImgException.refused(Reason.INVALID_NAME, "a snapshot name must not be empty");
        }
        if (name.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw QemuImgException.refused(Reason.INVALID_NAME, "snapshot name '" + name
                    + "' is all digits and would be taken for a snapshot id");
        }
    }

    /**
     * {@code qemu-img snapshot} has no {@code -f}: {@code --image-opts} with this option string is its only way to
     * name the format instead of probing it.
     */
    static String imageOpts(ImageFile image) {
        return "driver=" + image.format() + ",file.filename=" + escapeOptionValue(image.path().toString());
    }

    /** qemu-img's option syntax: a comma inside a value is written as two. */
    static String escapeOptionValue(String value) {
        return value.replace(",", ",,");
    }

    private void requireInTopLayer(ImageFile image, String name) throws QemuImgException {
        requireUsableName(name);
        requireInTopLayer(image, name, backingChain(image, false));
    }

    private List<String> argv(String... args) {
        List<String> argv = new ArrayList<>();
        argv.add(program);
        argv.addAll(List.of(args));
        return argv;
    }

    private ProcessResult runOk(List<String> argv) throws QemuImgException {
        ProcessResult r = run(argv);
        if (r.exitCode() != 0) {
            throw failed(r);
        }
        return r;
    }

    private ProcessResult run(List<String> argv) throws QemuImgException {
        LOG.debug("running {}", argv);
        try {
            return runner.run(argv, timeout);
        } catch (TimeoutException e) {
            throw new QemuImgException(Reason.TIMEOUT, argv, -1, "", String.join(" ", argv)
                    + " did not finish within " + timeout + " and was killed", e);
        } catch (IOException e) {
            throw new QemuImgException(Reason.NOT_RUN, argv, -1, "", "cannot run " + String.join(" ", argv) + ": "
                    + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new QemuImgException(Reason.NOT_RUN, argv, -1, "", "interrupted while running "
                    + String.join(" ", argv), e);
        }
    }

    private static QemuImgException failed(ProcessResult r) {
        String err = r.stderr().strip();
        return new QemuImgException(Reason.FAILED, r.argv(), r.exitCode(), r.stderr(), String.join(" ", r.argv())
                + " exited with " + r.exitCode() + (err.isEmpty() ? "" : ": " + err), null);
    }

    private JsonNode parse(ProcessResult r) throws QemuImgException {
        try {
            JsonNode n = json.readTree(r.stdout());
            if (n == null || n.isMissingNode()) {
                throw badOutput(r, "no JSON on stdout", null);
            }
            return n;
        } catch (JsonProcessingException e) {
            throw badOutput(r, "not JSON: " + e.getOriginalMessage(), e);
        }
    }

    private static QemuImgException badOutput(ProcessResult r, String why, Throwable cause) {
        return new QemuImgException(Reason.BAD_OUTPUT, r.argv(), r.exitCode(), r.stderr(),
                String.join(" ", r.argv()) + ": " + why + "; stdout was: " + r.stdout(), cause);
    }

    private static ImageInfo imageInfo(ProcessResult r, JsonNode n) throws QemuImgException {
        if (!n.isObject() || !n.has("filename") || !n.has("format")) {
            throw badOutput(r, "an image description without filename or format", null);
        }
        List<ImageSnapshot> snapshots = new ArrayList<>();
        for (JsonNode s : n.path("snapshots")) {
            snapshots.add(new ImageSnapshot(s.path("id").asText(""), s.path("name").asText(""),
                    s.path("vm-state-size").asLong(), s.path("date-sec").asLong(),
                    s.path("vm-clock-sec").asLong() * 1_000_000_000L + s.path("vm-clock-nsec").asLong()));
        }
        return new ImageInfo(n.get("filename").asText(), n.get("format").asText(), n.path("virtual-size").asLong(),
                n.path("actual-size").asLong(), text(n, "backing-filename"), text(n, "full-backing-filename"),
                text(n, "backing-filename-format"), n.path("dirty-flag").asBoolean(),
                n.path("format-specific").path("data").path("corrupt").asBoolean(), snapshots);
    }

    private static Optional<String> text(JsonNode n, String field) {
        return n.hasNonNull(field) ? Optional.of(n.get(field).asText()) : Optional.empty();
    }
}
