package io.xensnap.internal.qmp;

import io.xensnap.internal.qmp.QmpException.Kind;

/**
 * HMP commands through {@code human-monitor-command}, for the few things QMP cannot do. HMP reports errors as
 * ordinary output of a successful QMP call (e.g. {@code "Device 'x' not found\r\n"}), so callers must know what a
 * command prints on success.
 */
public final class HumanMonitor {

    private final QmpConnection qmp;

    public HumanMonitor(QmpConnection qmp) {
        this.qmp = qmp;
    }

    /** @return what the command printed */
    public String execute(String commandLine) throws QmpException {
        return qmp.execute("human-monitor-command", qmp.arguments().put("command-line", commandLine)).asText("");
    }

    /**
     * {@code drive_del}: detaches a {@code -drive} and closes its image, so qemu-img can open it
     * (docs/qemu.md#locking-off). It prints nothing on success.
     *
     * @throws QmpException HMP_ERROR with HMP's text, e.g. {@code Device 'x' not found}
     */
    public void driveDel(String drive) throws QmpException {
        if (drive.isBlank() || drive.chars().anyMatch(c -> c <= ' ' || c == '"' || c == '\\')) {
            throw new IllegalArgumentException("not a drive id: '" + drive + "'");
        }
        String out = execute("drive_del " + drive).strip();
        if (!out.isEmpty()) {
            throw QmpException.reported(Kind.HMP_ERROR, qmp.domain(), out, "drive_del " + drive + ": " + out);
        }
    }
}
