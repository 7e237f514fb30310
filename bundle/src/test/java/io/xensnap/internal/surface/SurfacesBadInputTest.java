package io.xensnap.internal.surface;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import javax.management.MBeanException;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import io.xensnap.api.SnapshotError;
import io.xensnap.harness.RealXenstored;
import io.xensnap.internal.engine.BadInputCorpus;
import io.xensnap.internal.engine.BadInputCorpus.Case;
import io.xensnap.internal.engine.Dom0;

/**
 * The bad-input corpus ({@link BadInputCorpus}) through the two surfaces people type into: the MBean, called over a
 * real JMX RMI connector as JConsole would, and the {@code snapshot:*} commands, run by Karaf's own shell (its parser,
 * argument injection and service injection). Both sit on the real service component, built from its settings as SCR
 * would; each case must give the same code as through the service, and leave the whole state as it was.
 *
 * <p>The console gets each value through a session variable ({@code snapshot:create $domain $name}), so the command
 * receives exactly the corpus's string, newlines and NULs included, as if the user had quoted it.
 */
class SurfacesBadInputTest {

    /** Cases that ask for an overlay format: the surfaces' disk spec has no way to say one. */
    private static final Set<String> NO_FORMAT_AT_THE_SURFACES = Set.of("internal-with-a-format",
            "overlay-format-vmdk", "overlay-format-raw");

    /**
     * Cases Karaf's own parser refuses before xensnap sees them, with its message: a required value missing (null),
     * which the console cannot be asked; and a first argument that looks like an option (Karaf has no {@code --}).
     */
    private static final Map<String, String> REFUSED_BY_KARAF = Map.of("name-null", "Argument name is required",
            "domain-null", "Argument name is required", "delete-name-null", "Argument name is required",
            "domain-negative", "Undefined option: -1");

    private static final Pattern CODED = Pattern.compile("^\\[([A-Z_]+)\\] ", Pattern.DOTALL);

    private static Dom0 dom0;
    private static Map<String, String> vars;
    private static String baseline;

    private static Surfaces surfaces;

    @BeforeAll
    static void start() throws Exception {
        dom0 = new Dom0(RealXenstored.Profile.CXENSTORED);
        surfaces = new Surfaces(dom0);
        // the corpus lays out an unfinished create that the reconcile at start would settle
        vars = BadInputCorpus.prepare(dom0);

        baseline = dom0.fingerprint();
    }

    @AfterAll
    static void stop() throws Exception {
        if (surfaces != null) {
            surfaces.close();
        }
        if (dom0 != null) {
            dom0.close();
        }
    }

    @Test
    void theSurfacesHandOnExactlyWhatWasTyped() throws Exception {
        // a tab must reach the name check, not be eaten or split by the transport or the shell's parser
        assertThat(throughTheConsole(new Case("tab", BadInputCorpus.Op.GET, "7", "a\tb", null, List.of(),
                SnapshotError.INVALID_ARGUMENT)).message()).contains("'a\\x09b'");
        assertThat(throughTheMBean(new Case("tab", BadInputCorpus.Op.GET, "7", "a\tb", null, List.of(),
                SnapshotError.INVALID_ARGUMENT)).message()).contains("'a\\x09b'");
        // and a good request passes both ways, so a refusal below is the case's, not the plumbing's
        assertThat(surfaces.mbean("listSnapshots", "7")).isNotNull();
        surfaces.session.execute("snapshot:list 7");
        assertThat(surfaces.console().toString(StandardCharsets.UTF_8)).contains("s1").contains("s2");
    }

    @TestFactory
    Stream<DynamicTest> everyCaseThroughTheMBean() {
        return BadInputCorpus.CASES.stream().map(c -> DynamicTest.dynamicTest(c.id(), () -> {
            Case resolved = c.resolved(vars);
            if (NO_FORMAT_AT_THE_SURFACES.contains(c.id())) {
                assertThat(spec(resolved)).as("%s cannot be spelled at the surfaces", c.id()).isEmpty();
                return;
            }
            Refusal got = throughTheMBean(resolved);
            assertThat(got.code()).as("%s: %s", c.id(), got.message()).contains(c.expected());
            assertThat(dom0.fingerprint()).as(c.id() + ": state after the case").isEqualTo(baseline);
        }));
    }

    @TestFactory
    Stream<DynamicTest> everyCaseThroughTheConsole() {
        return BadInputCorpus.CASES.stream().map(c -> DynamicTest.dynamicTest(c.id(), () -> {
            Case resolved = c.resolved(vars);
            if (NO_FORMAT_AT_THE_SURFACES.contains(c.id())) {
                assertThat(spec(resolved)).as("%s cannot be spelled at the surfaces", c.id()).isEmpty();
                return;
            }
            Refusal got = throughTheConsole(resolved);
            if (REFUSED_BY_KARAF.containsKey(c.id())) {
                assertThat(got.code()).as("%s: %s", c.id(), got.message()).isEmpty();
                assertThat(got.message()).isEqualTo(REFUSED_BY_KARAF.get(c.id()));
            } else {
                assertThat(got.code()).as("%s: %s", c.id(), got.message()).contains(c.expected());
            }
            assertThat(dom0.fingerprint()).as(c.id() + ": state after the case").isEqualTo(baseline);
        }));
    }

    @Test
    void theExceptionsListedAboveAreExactlyTheCasesThatNeedThem() {
        Set<String> withFormat = BadInputCorpus.CASES.stream()
                .filter(c -> c.disks().stream().anyMatch(d -> d.format() != null))
                .map(Case::id).collect(Collectors.toSet());
        assertThat(withFormat).isEqualTo(NO_FORMAT_AT_THE_SURFACES);
        Set<String> missingOrLikeAnOption = BadInputCorpus.CASES.stream()
                .filter(c -> c.domain() == null || c.domain().startsWith("-")
                        || (c.name() == null && c.op() != BadInputCorpus.Op.LIST))
                .map(Case::id).collect(Collectors.toSet());
        assertThat(missingOrLikeAnOption).isEqualTo(REFUSED_BY_KARAF.keySet());
        assertThat(BadInputCorpus.CASES.size() - NO_FORMAT_AT_THE_SURFACES.size()).isGreaterThanOrEqualTo(60);
    }

    /** How a surface refused a case: the code in front of its message, if it had one. */
    private record Refusal(Optional<SnapshotError> code, String message) {
        static Refusal of(String message) {
            Matcher m = CODED.matcher(message == null ? "" : message);
            return new Refusal(m.find() ? Optional.of(SnapshotError.valueOf(m.group(1))) : Optional.empty(),
                    String.valueOf(message));
        }
    }

    private static Refusal throughTheMBean(Case c) throws Exception {
        try {
            switch (c.op()) {
                case CREATE -> {
                    if (c.quiesce() == null) {
                        surfaces.mbean("createSnapshot", c.domain(), c.name(), c.description(),
                                spec(c).orElseThrow());
                    } else {
                        surfaces.mbean("createSnapshotWithQuiesce", c.domain(), c.name(), c.description(),
                                spec(c).orElseThrow(), c.quiesce());
                    }
                }
                case CREATE_WITH_MEMORY -> surfaces.mbean("createSnapshotWithMemory", c.domain(), c.name(),
                        c.description(), spec(c).orElseThrow());
                case REVERT -> surfaces.mbean("revertSnapshot", c.domain(), c.name());
                case REVERT_AND_RESTART -> surfaces.mbean("revertSnapshotAndRestart", c.domain(), c.name());
                case DELETE -> surfaces.mbean("deleteSnapshot", c.domain(), c.name());
                case GET -> surfaces.mbean("getSnapshot", c.domain(), c.name());
                case LIST -> surfaces.mbean("listSnapshots", c.domain());
            }
        } catch (MBeanException e) {
            // no xensnap class travels to the client: the target is a plain Exception with the same text
            assertThat(e.getCause()).as("the target").isExactlyInstanceOf(Exception.class)
                    .hasMessage(e.getMessage()).hasNoCause();
            assertThat(e.getCause().getStackTrace()).as("the target's stack trace").isEmpty();
            return Refusal.of(e.getMessage());
        }
        throw new AssertionError(c.id() + " was accepted by the MBean");
    }

    private static Refusal throughTheConsole(Case c) {
        List<String> words = new ArrayList<>();
        switch (c.op()) {
            case CREATE, CREATE_WITH_MEMORY -> {
                words.add("snapshot:create");
                if (c.op() == BadInputCorpus.Op.CREATE_WITH_MEMORY) {
                    words.add("--memory");
                }
                option(words, "-d", "description", c.description());
                option(words, "--disks", "disks", spec(c).orElseThrow());
                option(words, "--quiesce", "quiesce", c.quiesce());
            }
            case REVERT -> words.add("snapshot:revert");
            case REVERT_AND_RESTART -> {
                words.add("snapshot:revert");
                words.add("--restart");
            }
            case DELETE -> words.add("snapshot:delete");
            case GET -> words.add("snapshot:info");
            case LIST -> words.add("snapshot:list");
        }
        argument(words, "domain", c.domain());
        if (c.op() != BadInputCorpus.Op.LIST) {
            argument(words, "name", c.name());
        }
        try {
            surfaces.session.execute(String.join(" ", words));
        } catch (Exception e) {
            return Refusal.of(e.getMessage());
        }
        throw new AssertionError(c.id() + " was accepted by the console");
    }

    /** A value goes in through a session variable, so the command gets it exactly; a missing one is left out. */
    private static void argument(List<String> words, String variable, String value) {
        if (value != null) {
            surfaces.session.put(variable, value);
            words.add("$" + variable);
        }
    }

    private static void option(List<String> words, String option, String variable, String value) {
        if (value != null && !value.isEmpty()) {
            words.add(option);
            argument(words, variable, value);
        }
    }

    /** @return the case's disks in the surfaces' disk spec, empty when one asks for a format the spec cannot say */
    private static Optional<String> spec(Case c) {
        List<String> items = new ArrayList<>();
        for (BadInputCorpus.Disk d : c.disks()) {
            if (d.format() != null) {
                return Optional.empty();
            }
            StringBuilder item = new StringBuilder(d.vdev() == null ? "" : d.vdev());
            if (d.kind() != null) {
                item.append(':').append(d.kind());
            }
            if (d.overlay() != null) {
                item.append(':').append(d.overlay());
            }
            items.add(item.toString());
        }
        return Optional.of(String.join(",", items));
    }
}
