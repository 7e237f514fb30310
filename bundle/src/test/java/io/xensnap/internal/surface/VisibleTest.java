package io.xensnap.internal.surface;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class VisibleTest {

    @Test
    void controlAndFormatCharactersAreShownNotObeyed() {
        assertThat(Visible.text("a\u001b[2Jb")).isEqualTo("a\\x1b[2Jb");
        assertThat(Visible.text("x\ny\tz\0\u007f")).isEqualTo("x\\x0ay\\x09z\\x00\\x7f");
        assertThat(Visible.text("c1\u0085\u009b")).isEqualTo("c1\\x85\\x9b");
        assertThat(Visible.text("evil\u202etxt.exe")).isEqualTo("evil\\u202etxt.exe");
        assertThat(Visible.text("\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069\u200e\u200f\u061c"))
                .isEqualTo("\\u202a\\u202b\\u202c\\u202d\\u2066\\u2067\\u2068\\u2069\\u200e\\u200f\\u061c");
        assertThat(Visible.text("line\u2028para\u2029")).isEqualTo("line\\u2028para\\u2029");
        assertThat(Visible.text("tag\uDB40\uDC01")).isEqualTo("tag\\U000e0001");
    }

    @Test
    void printableTextIsLeftAsItIs() {
        String plain = "/var/lib/xen/images/vm 7/disk0.qcow2 – été 日本 \\x1b";
        assertThat(Visible.text(plain)).isSameAs(plain);
        assertThat(Visible.text((String) null)).isEmpty();
        assertThat(Visible.text(java.nio.file.Path.of("/img/a\u001b.qcow2"))).isEqualTo("/img/a\\x1b.qcow2");
    }
}
