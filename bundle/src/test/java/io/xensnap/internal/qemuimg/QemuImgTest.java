package io.xensnap.internal.qemuimg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.xensnap.harness.Prerequisite;
import io.xensnap.harness.RealQemu;
import io.xensnap.harness.RealQemu.Format;
import io.xensnap.harness.RealQemu.Profile;
import io.xensnap.harness.ShortCommand;
import io.xensnap.harness.TempRoot;
import io.xensnap.internal.qemuimg.QemuImgException.Reason;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Every operation against the real qemu-img; setup and checks use qemu-img/qemu-io directly. */
class QemuImgTest {

    private static final long MIB = 1024 * 1024;
    private static final String QEMU_IMG = Prerequisite.QEMU_IMG.require().toString();

    private final ObjectMapper json = new ObjectMapper();
    private final QemuImg img = new QemuImg(new JdkProcessRunner(), QEMU_IMG, Duration.ofSeconds(30), json);
    private TempRoot dir;
    private RealQemu qemu;

    @BeforeEach
    void setUp() {
        dir = TempRoot.create("xi");
    }

    @AfterEach
    void tearDown() {
        if (qemu != null) {
            qemu.close();
        }
        dir.close();
    }

    private Path path(String name) {
        return dir.path().resolve(name);
    }

    private static void tool(String... args) {
        List<String> argv = new ArrayList<>(List.of(QEMU_IMG));
        argv.addAll(List.of(args));
        ShortCommand.ok(argv.toArray(String[]::new));
    }

    private ImageFile qcow2(String name) {
        Path p = path(name);
        tool("create", "-q", "-f", "qcow2", p.toString(), "64M");
        return ImageFile.qcow2(p);
    }

    private ImageFile overlay(String name, ImageFile backing) {
        Path p = path(name);
        tool("create", "-q", "-f", "qcow2", "-b", backing.path().toString(), "-F", backing.format(), p.toString());
        return ImageFile.qcow2(p);
    }

    private static void fill(ImageFile image, int pattern) {
        ShortCommand.ok(Prerequisite.QEMU_IO.require().toString(), "-f", image.format(), "-c",
                String.format("write -P 0x%02x 0 %d", pattern, MIB), image.path().toString());
    }

    private static List<String> rawSnapshotNames(ImageFile image) throws Exception {
        JsonNode info = new ObjectMapper().readTree(ShortCommand.ok(QEMU_IMG, "info", "--output=json",
                image.path().toString()).output());
        List<String> names = new ArrayList<>();
        info.path("snapshots").forEach(s -> names.add(s.path("name").asText()));
        return names;
    }

    @Test
    void infoParsesSizesFormatAndTheSnapshotList() throws Exception {
        ImageFile d = qcow2("d.qcow2");
        tool("snapshot", "-c", "s1", d.path().toString());
        tool("snapshot", "-c", "s2", d.path().toString());

        ImageInfo info = img.info(d, false);

        assertThat(info.filename()).isEqualTo(d.path().toString());
        assertThat(info.format()).isEqualTo("qcow2");
        assertThat(info.virtualSize()).isEqualTo(64 * MIB);
        assertThat(info.actualSize()).isPositive();
        assertThat(info.backingFilename()).isEmpty();
        assertThat(info.dirty()).isFalse();
        assertThat(info.corrupt()).isFalse();
        assertThat(info.snapshots()).extracting(ImageSnapshot::id, ImageSnapshot::name)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("1", "s1"),
                        org.assertj.core.groups.Tuple.tuple("2", "s2"));
        assertThat(info.snapshots().get(0).dateSeconds()).isPositive();
        assertThat(img.info(d, false).snapshotsNamed("s2")).hasSize(1);
    }

    @Test
    void backingChainListsEveryLayerTopFirstWithItsOwnSnapshots() throws Exception {
        ImageFile base = qcow2("base.qcow2");
        tool("snapshot", "-c", "in-base", base.path().toString());
        ImageFile mid = overlay("mid.qcow2", base);
        ImageFile top = overlay("top.qcow2", mid);

        List<ImageInfo> chain = img.backingChain(top, false);

        assertThat(chain).extracting(ImageInfo::filename).containsExactly(top.path().toString(),
                mid.path().toString(), base.path().toString());
        assertThat(chain.get(0).fullBackingFilename()).contains(mid.path().toString());
        assertThat(chain.get(0).backingFormat()).contains("qcow2");
        assertThat(chain.get(2).backingFilename()).isEmpty();
        assertThat(chain).extracting(i -> i.snapshots().size()).containsExactly(0, 0, 1);
    }

    @Test
    void anImageAPlainQemuHoldsCanOnlyBeReadForceShared() throws Exception {
        ImageFile d = qcow2("held.qcow2");
        tool("snapshot", "-c", "s1", d.path().toString());
        qemu = RealQemu.builder(Profile.PLAIN).images(d.path()).start();

        QemuImgException locked = catchThrowableOfType(QemuImgException.class, () -> img.info(d, false));
        assertThat(locked.reason()).isEqualTo(Reason.FAILED);
        assertThat(locked.exitCode()).isEqualTo(1);
        assertThat(locked.stderr()).contains("Failed to get shared \"write\" lock",
                "Is another process using the image [" + d.path() + "]?");
        assertThat(locked).hasMessageContaining("exited with 1: qemu-img: Could not open '" + d.path() + "'");

        assertThat(img.info(d, true).snapshots()).extracting(ImageSnapshot::name).containsExactly("s1");
        // the guard's own info call runs into the same lock, so nothing is written behind QEMU's back
        QemuImgException create = catchThrowableOfType(QemuImgException.class, () -> img.createSnapshot(d, "x"));
        assertThat(create.stderr()).contains("Failed to get shared \"write\" lock");
    }

    @Test
    void createSnapshotRefusesADuplicateNameThatQemuImgWouldAccept() throws Exception {
        ImageFile d = qcow2("d.qcow2");
        img.createSnapshot(d, "daily");

        QemuImgException e = catchThrowableOfType(QemuImgException.class, () -> img.createSnapshot(d, "daily"));

        assertThat(e.reason()).isEqualTo(Reason.DUPLICATE_NAME);
        assertThat(e).hasMessage("snapshot 'daily' exists already in " + d.path());
        assertThat(rawSnapshotNames(d)).containsExactly("daily");
        // the reason for the guard: qemu-img itself adds a second snapshot with the same tag
        tool("snapshot", "-c", "daily", d.path().toString());
        assertThat(rawSnapshotNames(d)).containsExactly("daily", "daily");
        QemuImgException ambiguous = catchThrowableOfType(QemuImgException.class, () -> img.applySnapshot(d, "daily"));
        assertThat(ambiguous.reason()).isEqualTo(Reason.DUPLICATE_NAME);
        assertThat(ambiguous).hasMessageContaining("has 2 snapshots named 'daily'");
    }

    @Test
    void namesThatAreAllDigitsOrEmptyAreRefused() throws Exception {
        ImageFile d = qcow2("d.qcow2");
        img.createSnapshot(d, "first");

        QemuImgException digits = catchThrowableOfType(QemuImgException.class, () -> img.createSnapshot(d, "1"));
        assertThat(digits.reason()).isEqualTo(Reason.INVALID_NAME);
        assertThat(digits).hasMessageContaining("'1' is all digits");
        // "1" would have hit the id of "first" here
        QemuImgException apply = catchThrowableOfType(QemuImgException.class, () -> img.applySnapshot(d, "1"));
        assertThat(apply.reason()).isEqualTo(Reason.INVALID_NAME);
        QemuImgException empty = catchThrowableOfType(QemuImgException.class, () -> img.deleteSnapshot(d, ""));
        assertThat(empty.reason()).isEqualTo(Reason.INVALID_NAME);
        assertThat(rawSnapshotNames(d)).containsExactly("first");
    }

    @Test
    void applySnapshotRevertsTheData() throws Exception {
        ImageFile d = qcow2("d.qcow2");
        fill(d, 0x21);
        img.createSnapshot(d, "before");
        fill(d, 0x22);
        assertThat(RealQemu.hasPattern(d.path(), Format.QCOW2, 0x22)).isTrue();

        img.applySnapshot(d, "before");

        assertThat(RealQemu.hasPattern(d.path(), Format.QCOW2, 0x21)).isTrue();
    }

    @Test
    void aSnapshotThatLivesInALowerLayerIsRefusedAndNothingIsApplied() throws Exception {
        ImageFile base = qcow2("base.qcow2");
        fill(base, 0x31);
        img.createSnapshot(base, "sb");
        fill(base, 0x32);
        ImageFile top = overlay("top.qcow2", base);

        QemuImgException apply = catchThrowableOfType(QemuImgException.class, () -> img.applySnapshot(top, "sb"));
        QemuImgException delete = catchThrowableOfType(QemuImgException.class, () -> img.deleteSnapshot(top, "sb"));

        assertThat(apply.reason()).isEqualTo(Reason.SNAPSHOT_IN_OTHER_LAYER);
        assertThat(apply).hasMessage("snapshot 'sb' lives in " + base.path() + ", a lower layer of " + top.path()
                + ", not in the image itself");
        assertThat(delete.reason()).isEqualTo(Reason.SNAPSHOT_IN_OTHER_LAYER);
        assertThat(rawSnapshotNames(base)).containsExactly("sb");
        assertThat(RealQemu.hasPattern(top.path(), Format.QCOW2, 0x32)).isTrue();
    }

    @Test
    void anUnknownSnapshotIsRefusedBeforeQemuImgRuns() throws Exception {
        ImageFile d = qcow2("d.qcow2");

        QemuImgException apply = catchThrowableOfType(QemuImgException.class, () -> img.applySnapshot(d, "nosuch"));
        QemuImgException delete = catchThrowableOfType(QemuImgException.class, () -> img.deleteSnapshot(d, "nosuch"));

        assertThat(apply.reason()).isEqualTo(Reason.NO_SUCH_SNAPSHOT);
        assertThat(apply).hasMessage(d.path() + " has no snapshot 'nosuch'");
        assertThat(delete.reason()).isEqualTo(Reason.NO_SUCH_SNAPSHOT);
    }

    @Test
    void deleteSnapshotRemovesOnlyThatSnapshot() throws Exception {
        ImageFile d = qcow2("d.qcow2");
        img.createSnapshot(d, "a");
        img.createSnapshot(d, "b");

        img.deleteSnapshot(d, "a");

        assertThat(img.info(d, false).snapshots()).extracting(ImageSnapshot::name).containsExactly("b");
    }

    @Test
    void withAChainReadOnceTheSameChecksHoldAndEachStepIsOneProcess() throws Exception {
        ImageFile base = qcow2("base.qcow2");
        fill(base, 0x31);
        img.createSnapshot(base, "sb");
        ImageFile d = qcow2("d.qcow2");
        fill(d, 0x41);
        img.createSnapshot(d, "s1");
        fill(d, 0x42);
        List<ImageInfo> chain = img.backingChain(d, true);

        img.createSnapshot(d, "undo", chain);
        img.applySnapshot(d, "s1", chain);
        assertThat(RealQemu.hasPattern(d.path(), Format.QCOW2, 0x41)).isTrue();
        img.applySnapshot(d, "undo");
        assertThat(RealQemu.hasPattern(d.path(), Format.QCOW2, 0x42)).isTrue();
        img.deleteOwnSnapshot(d, "undo");
        assertThat(rawSnapshotNames(d)).containsExactly("s1");

        // the chain read before: "s1" exists, "nosuch" does not, "sb" lives in a lower layer
        assertThat(catchThrowableOfType(QemuImgException.class, () -> img.createSnapshot(d, "s1", chain)).reason())
                .isEqualTo(Reason.DUPLICATE_NAME);
        assertThat(catchThrowableOfType(QemuImgException.class, () -> img.applySnapshot(d, "nosuch", chain))
                .reason()).isEqualTo(Reason.NO_SUCH_SNAPSHOT);
        ImageFile top = overlay("top.qcow2", base);
        List<ImageInfo> topChain = img.backingChain(top, true);
        assertThat(catchThrowableOfType(QemuImgException.class, () -> img.applySnapshot(top, "sb", topChain))
                .reason()).isEqualTo(Reason.SNAPSHOT_IN_OTHER_LAYER);
        assertThat(rawSnapshotNames(base)).containsExactly("sb");
        assertThat(catchThrowableOfType(IllegalArgumentException.class,
                () -> img.applySnapshot(top, "sb", chain))).hasMessageContaining("not the backing chain");
    }

    @Test
    void qcow2SharingTellsWhetherTheActiveLayerWasWrittenSinceTheLastSnapshotTakenOrApplied() throws Exception {
        ImageFile d = qcow2("d.qcow2");
        fill(d, 0x41);
        assertThat(Qcow2Sharing.unsharedTables(d.path())).as("written, no snapshot yet").isEqualTo(1);
        img.createSnapshot(d, "s1");
        assertThat(Qcow2Sharing.unsharedTables(d.path())).as("after snapshot -c").isZero();
        ShortCommand.ok(Prerequisite.QEMU_IO.require().toString(), "-f", "qcow2", "-c", "write -z 8M 4k",
                d.path().toString());
        assertThat(Qcow2Sharing.unsharedTables(d.path())).as("zeroes written").isEqualTo(1);
        img.applySnapshot(d, "s1");
        assertThat(Qcow2Sharing.unsharedTables(d.path())).as("after snapshot -a").isZero();

        Path raw = path("r.raw");
        tool("create", "-q", "-f", "raw", raw.toString(), "1M");
        assertThat(catchThrowableOfType(java.io.IOException.class, () -> Qcow2Sharing.unsharedTables(raw)))
                .hasMessage(raw + " is not a qcow2 image");
    }

    @Test
    void snapshotsOfARawImageFailWithQemuImgsOwnError() throws Exception {
        Path p = path("d.raw");
        tool("create", "-q", "-f", "raw", p.toString(), "16M");
        ImageFile raw = ImageFile.raw(p);

        assertThat(img.info(raw, false).snapshots()).isEmpty();
        QemuImgException e = catchThrowableOfType(QemuImgException.class, () -> img.createSnapshot(raw, "s"));

        assertThat(e.reason()).isEqualTo(Reason.FAILED);
        assertThat(e.exitCode()).isEqualTo(1);
        assertThat(e.stderr()).contains("qemu-img: Could not create snapshot 's': -95 (Operation not supported)");
    }

    @Test
    void aMissingImageFailsWithQemuImgsText() {
        ImageFile missing = ImageFile.qcow2(path("missing.qcow2"));

        QemuImgException e = catchThrowableOfType(QemuImgException.class, () -> img.info(missing, false));

        assertThat(e.reason()).isEqualTo(Reason.FAILED);
        assertThat(e.stderr()).contains("qemu-img: Could not open '" + missing.path() + "': Could not open '"
                + missing.path() + "': No such file or directory");
        assertThat(e.argv()).containsExactly(QEMU_IMG, "info", "--output=json", "-f", "qcow2",
                missing.path().toString());
    }

    @Test
    void createOverlayWritesBackingAndFormatAndEscapesCommasInOptions() throws Exception {
        Files.createDirectories(path("with,comma"));
        Path baseFile = path("with,comma/base.qcow2");
        tool("create", "-q", "-f", "qcow2", baseFile.toString(), "32M");
        Path ov = path("ov.qcow2");
        Path dataFile = path("ext,data.raw");

        img.createOverlay(ov, ImageFile.qcow2(baseFile), Map.of("data_file", dataFile.toString(),
                "cluster_size", "131072"));

        ImageInfo info = img.info(ImageFile.qcow2(ov), false);
        assertThat(info.backingFilename()).contains(baseFile.toString());
        assertThat(info.backingFormat()).contains("qcow2");
        assertThat(info.virtualSize()).isEqualTo(32 * MIB);
        JsonNode raw = json.readTree(ShortCommand.ok(QEMU_IMG, "info", "--output=json", ov.toString()).output());
        assertThat(raw.path("cluster-size").asLong()).isEqualTo(131072);
        assertThat(raw.path("format-specific").path("data").path("data-file").asText()).isEqualTo(dataFile.toString());
        assertThat(dataFile).exists();
    }

    @Test
    void snapshotsWorkOnImagesWhosePathHasCommas() throws Exception {
        Files.createDirectories(path("a,b"));
        Path p = path("a,b/d,1.qcow2");
        tool("create", "-q", "-f", "qcow2", p.toString(), "16M");
        ImageFile d = ImageFile.qcow2(p);

        img.createSnapshot(d, "s1");
        img.applySnapshot(d, "s1");
        img.createSnapshot(d, "s2");
        img.deleteSnapshot(d, "s1");

        assertThat(rawSnapshotNames(d)).containsExactly("s2");
    }

    @Test
    void createOverlayRefusesToOverwriteAFile() throws Exception {
        ImageFile base = qcow2("base.qcow2");
        Path existing = path("taken.qcow2");
        Files.writeString(existing, "keep me");

        QemuImgException e = catchThrowableOfType(QemuImgException.class,
                () -> img.createOverlay(existing, base, Map.of()));

        assertThat(e.reason()).isEqualTo(Reason.FILE_EXISTS);
        assertThat(existing).hasContent("keep me");
    }

    @Test
    void commitWritesTheTopIntoItsBacking() throws Exception {
        ImageFile base = qcow2("base.qcow2");
        fill(base, 0x41);
        ImageFile top = overlay("top.qcow2", base);
        fill(top, 0x42);

        img.commit(top);

        assertThat(RealQemu.hasPattern(base.path(), Format.QCOW2, 0x42)).isTrue();
        assertThat(img.backingChain(top, false)).hasSize(2);
    }

    @Test
    void checkReportsACleanImage() throws Exception {
        ImageFile d = qcow2("d.qcow2");
        fill(d, 0x51);

        CheckResult r = img.check(d);

        assertThat(r.clean()).isTrue();
        assertThat(r.exitCode()).isZero();
    }

    @Test
    void checkReportsCorruptionsAsAResultNotAFailure() throws Exception {
        // lazy refcounts plus a simulated crash (qemu-io's abort) leave refcounts unwritten
        Path p = path("crashed.qcow2");
        tool("create", "-q", "-f", "qcow2", "-o", "lazy_refcounts=on", p.toString(), "64M");
        ShortCommand.Result crash = ShortCommand.run(Duration.ofSeconds(30), List.of("prlimit", "--core=0",
                Prerequisite.QEMU_IO.require().toString(), "-f", "qcow2", "-c", "write -P 0x11 0 1M", "-c", "abort",
                p.toString()));
        assertThat(crash.exitCode()).isNotZero();
        ImageFile d = ImageFile.qcow2(p);
        assertThat(img.info(d, false).dirty()).isTrue();

        CheckResult r = img.check(d);

        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.corruptions()).isPositive();
        assertThat(r.clean()).isFalse();
    }

    @Test
    void checkOfAFormatWithoutChecksFails() throws Exception {
        Path p = path("d.raw");
        tool("create", "-q", "-f", "raw", p.toString(), "1M");

        QemuImgException e = catchThrowableOfType(QemuImgException.class, () -> img.check(ImageFile.raw(p)));

        assertThat(e.reason()).isEqualTo(Reason.FAILED);
        assertThat(e.exitCode()).isEqualTo(63);
        assertThat(e.stderr()).contains("This image format does not support checks");
    }

    @Test
    void argumentsAreNeverInterpretedByAShell() throws Exception {
        ImageFile d = qcow2("d.qcow2");
        String name = "x; touch " + path("pwned") + " $(id) `id` 'q\"";

        img.createSnapshot(d, name);

        assertThat(rawSnapshotNames(d)).containsExactly(name);
        assertThat(path("pwned")).doesNotExist();
    }

    @Test
    void aRunThatOutlastsItsTimeoutIsKilledAndReported() throws Exception {
        ImageFile d = qcow2("d.qcow2");
        QemuImg impatient = new QemuImg(new JdkProcessRunner(), QEMU_IMG, Duration.ofMillis(1), json);

        QemuImgException e = catchThrowableOfType(QemuImgException.class, () -> impatient.info(d, false));

        assertThat(e.reason()).isEqualTo(Reason.TIMEOUT);
        assertThat(e).hasMessageContaining("did not finish within PT0.001S and was killed");
        assertThat(ProcessHandle.current().children().filter(ProcessHandle::isAlive)).isEmpty();
    }

    @Test
    void aProgramThatCannotBeStartedIsNotRun() {
        QemuImg nowhere = new QemuImg(new JdkProcessRunner(), path("no-qemu-img").toString(), Duration.ofSeconds(5),
                json);

        QemuImgException e = catchThrowableOfType(QemuImgException.class,
                () -> nowhere.info(ImageFile.qcow2(path("d.qcow2")), false));

        assertThat(e.reason()).isEqualTo(Reason.NOT_RUN);
        assertThat(e).hasMessageContaining("cannot run " + path("no-qemu-img"));
    }

    @Test
    void outputThatIsNotJsonIsBadOutput() {
        // a real program that exits 0 but prints its arguments instead of JSON
        QemuImg echo = new QemuImg(new JdkProcessRunner(), "/bin/echo", Duration.ofSeconds(5), json);

        QemuImgException e = catchThrowableOfType(QemuImgException.class,
                () -> echo.info(ImageFile.qcow2(path("d.qcow2")), false));

        assertThat(e.reason()).isEqualTo(Reason.BAD_OUTPUT);
        assertThat(e).hasMessageContaining("stdout was: info --output=json");
    }

    @Test
    void imagePathsMustBeAbsoluteAndFormatsPlain() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> ImageFile.qcow2(Path.of("rel.qcow2")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("absolute");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new ImageFile(Path.of("/a"), "qcow2,x"))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
