package io.xensnap.internal.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The rule for qemu.img, through the real validator on real files: a tree under the test's temporary directory whose
 * owners and modes are set per case (the tests run as root, which may give files away to nobody, uid 65534). The
 * temporary directory lies in /tmp, which is sticky and world-writable, and is root's: a program below it may pass.
 */
class ProgramPathTest {

    private static final int NOBODY = 65534;
    private static final ConfigurationValidator VALIDATOR = new ConfigurationValidator(k -> null);

    @TempDir
    Path tmp;

    private Path bin;
    private Path program;

    @BeforeEach
    void aProgramOnlyRootCanChange() throws Exception {
        mode(tmp, 0755);
        bin = Files.createDirectories(tmp.resolve("opt/qemu/bin"));
        for (Path d = bin; !d.equals(tmp); d = d.getParent()) {
            mode(d, 0755);
        }
        program = bin.resolve("qemu-img");
        Files.writeString(program, "#!/bin/sh\nexec /usr/bin/qemu-img \"$@\"\n", StandardCharsets.UTF_8);
        mode(program, 0755);
    }

    @Test
    void aRootOwnedProgramInRootOwnedDirectoriesIsAccepted() throws Exception {
        assertThat(qemuImg(program.toString()).qemuImg()).isEqualTo(program);
        assertThat(qemuImg("/usr/bin/qemu-img").qemuImg()).isEqualTo(Path.of("/usr/bin/qemu-img"));
    }

    @Test
    void aProgramOfAnotherOwnerIsRefused() throws Exception {
        Files.setAttribute(program, "unix:uid", NOBODY);
        assertRefused(program, program + " is owned by uid 65534, not root");
    }

    @Test
    void aProgramWritableByGroupOrOthersIsRefused() throws Exception {
        mode(program, 0775);
        assertRefused(program, program + " is writable by group or others (mode 0775)");
        mode(program, 0757);
        assertRefused(program, program + " is writable by group or others (mode 0757)");
    }

    @Test
    void aFileThatIsNotExecutableIsRefused() throws Exception {
        mode(program, 0644);
        assertRefused(program, program + " is not executable (mode 0644)");
    }

    @Test
    void aDirectoryOrAMissingFileIsRefused() throws Exception {
        assertRefused(bin, bin + " is not a regular file");
        assertRefused(bin.resolve("missing"), bin.resolve("missing") + " does not exist");
    }

    @Test
    void aDirectoryAboveOfAnotherOwnerIsRefused() throws Exception {
        Path opt = tmp.resolve("opt");
        Files.setAttribute(opt, "unix:uid", NOBODY);
        assertRefused(program, opt + " is owned by uid 65534, not root");
    }

    @Test
    void aDirectoryAboveWritableByOthersIsRefusedWithoutTheStickyBit() throws Exception {
        Path opt = tmp.resolve("opt");
        mode(opt, 0777);
        assertRefused(program, opt + " is writable by group or others (mode 0777)");
        mode(opt, 0775);
        assertRefused(program, opt + " is writable by group or others (mode 0775)");
    }

    @Test
    void aStickyDirectoryAboveIsAcceptedWhenTheEntryOnThePathIsRoots() throws Exception {
        Path opt = tmp.resolve("opt");
        mode(opt, 01777);
        assertThat(qemuImg(program.toString()).qemuImg()).isEqualTo(program);

        Path qemu = opt.resolve("qemu");
        Files.setAttribute(qemu, "unix:uid", NOBODY);
        assertRefused(program, qemu + " is owned by uid 65534, not root, in the sticky directory " + opt);
    }

    @Test
    void theStickyBitDoesNotExcuseTheProgramsOwnDirectory() throws Exception {
        mode(bin, 01777);
        assertRefused(program, bin + " is writable by group or others (mode 1777)");
        // the attack as reported: a script in /tmp itself
        Path evil = Files.createTempFile(Path.of("/tmp"), "xensnap-evil", ".sh");
        try {
            mode(evil, 0755);
            assertRefused(evil, "/tmp is writable by group or others (mode 1777)");
        } finally {
            Files.delete(evil);
        }
    }

    @Test
    void aSymlinkIsJudgedByItsOwnDirectoriesAndByItsTarget() throws Exception {
        Path safeLink = bin.resolve("qemu-img-link");
        Files.createSymbolicLink(safeLink, Path.of("/usr/bin/qemu-img"));
        assertThat(qemuImg(safeLink.toString()).qemuImg()).as("kept as configured").isEqualTo(safeLink);

        // a root-owned link in a safe directory, to a program in a directory others can write
        Path open = Files.createDirectories(tmp.resolve("open"));
        mode(open, 0777);
        Path target = Files.copy(program, open.resolve("qemu-img"));
        mode(target, 0755);
        Path link = bin.resolve("to-open");
        Files.createSymbolicLink(link, target);
        assertRefused(link, "its real path " + target + ": " + open + " is writable by group or others (mode 0777)");

        // a link to a safe program, in a directory others can write (they could point it elsewhere)
        Path openLink = open.resolve("qemu-img-link");
        Files.createSymbolicLink(openLink, Path.of("/usr/bin/qemu-img"));
        assertRefused(openLink, open + " is writable by group or others (mode 0777)");

        // a directory on the path that is a link to a directory others can write
        Path linkedDir = tmp.resolve("opt/linked");
        Files.createSymbolicLink(linkedDir, open);
        assertRefused(linkedDir.resolve("qemu-img"), linkedDir + " is writable by group or others (mode 0777)");
    }

    @Test
    void everyOtherKeyIsStillChecked() {
        TestConfiguration c = new TestConfiguration();
        c.qemuImg = "/tmp";
        c.parallelism = 0;
        InvalidConfigurationException e = catchThrowableOfType(InvalidConfigurationException.class,
                () -> VALIDATOR.validate(c));
        assertThat(e.keys()).containsExactly("qemu.img", "parallelism");
    }

    private Settings qemuImg(String path) throws InvalidConfigurationException {
        TestConfiguration c = new TestConfiguration();
        c.qemuImg = path;
        return VALIDATOR.validate(c);
    }

    private void assertRefused(Path path, String why) {
        InvalidConfigurationException e = catchThrowableOfType(InvalidConfigurationException.class,
                () -> qemuImg(path.toString()));
        assertThat(e).as("refused: " + path).isNotNull();
        assertThat(e.keys()).containsExactly("qemu.img");
        assertThat(e.problems()).isEqualTo("qemu.img = '" + path + "': not a program only root can change: " + why);
    }

    private static void mode(Path p, int mode) throws Exception {
        Files.setAttribute(p, "unix:mode", mode);
    }
}
