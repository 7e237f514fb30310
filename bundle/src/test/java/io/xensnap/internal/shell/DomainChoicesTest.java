package io.xensnap.internal.shell;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

import io.xensnap.internal.xenstore.XenDomain;

class DomainChoicesTest {

    private static final String A = "6f1e4a52-0d3b-4c8e-9a1f-2b7c5d9e0f13";
    private static final String B = "2b5a4c1e-1111-4222-8333-944455556666";

    @Test
    void runningDomainsByDomidShutOffOnesByUuid() {
        List<DomainChoices.Choice> choices = DomainChoices.of(List.of(new XenDomain(7, "web", A)), List.of(A, B));

        assertThat(choices).containsExactly(new DomainChoices.Choice("7", "web (running)"),
                new DomainChoices.Choice(B, "not running, known to xensnap"));
    }
}
