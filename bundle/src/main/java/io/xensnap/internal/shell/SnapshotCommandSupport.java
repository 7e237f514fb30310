package io.xensnap.internal.shell;

import java.io.PrintStream;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.support.CommandException;

import io.xensnap.api.SnapshotException;
import io.xensnap.internal.service.SnapshotOperations;
import io.xensnap.internal.surface.Visible;

/**
 * What every {@code snapshot:*} command shares: the service, the session's console, and errors printed as
 * {@code [CODE] message} (the same text a JMX client gets). Everything a command prints that xensnap did not write
 * itself goes through {@link Visible}, errors included: they quote QEMU, qemu-img and /proc.
 */
abstract class SnapshotCommandSupport implements Action {

    /** Text shared by the commands' help about naming a domain. */
    static final String DOMAIN_HELP = "The domain: its domid while it runs (as 'xl list' shows it), its uuid while it"
            + " is shut off. Press TAB to see both.";

    // Karaf injects these before execute(); they cannot be final.
    @Reference
    SnapshotOperations snapshots;

    @Reference
    Session session;

    @Override
    public final Object execute() throws Exception {
        try {
            run(session.getConsole());
            return null;
        } catch (SnapshotException e) {
            throw new CommandException(Visible.text(e.codedMessage()), e);
        }
    }

    /**
     * @param out the session's console; also safe from the engine's worker threads, unlike {@code System.out}, which
     *            Karaf binds to the session per thread
     */
    abstract void run(PrintStream out) throws SnapshotException;
}
