package io.xensnap.itests;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.security.PrivilegedActionException;
import java.security.PrivilegedExceptionAction;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import javax.security.auth.Subject;
import javax.security.auth.callback.NameCallback;
import javax.security.auth.callback.PasswordCallback;
import javax.security.auth.login.LoginContext;
import javax.security.auth.login.LoginException;

import org.apache.karaf.shell.api.console.Candidate;
import org.apache.karaf.shell.api.console.CommandLine;
import org.apache.karaf.shell.api.console.Completer;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.api.console.SessionFactory;

/**
 * Runs console commands as a logged-in Karaf user: the user logs in to the {@code karaf} JAAS realm, as over ssh,
 * and the command runs with that subject, so Karaf's command ACLs apply.
 */
final class Console {

    private final SessionFactory sessions;
    private final Subject subject;

    private Console(SessionFactory sessions, Subject subject) {
        this.sessions = sessions;
        this.subject = subject;
    }

    static Console login(SessionFactory sessions, String user, String password) throws LoginException {
        LoginContext login = new LoginContext("karaf", callbacks -> {
            for (var c : callbacks) {
                if (c instanceof NameCallback n) {
                    n.setName(user);
                } else if (c instanceof PasswordCallback p) {
                    p.setPassword(password.toCharArray());
                }
            }
        });
        login.login();
        return new Console(sessions, login.getSubject());
    }

    /**
     * Asks one of the snapshot completers, the way the console does when TAB is pressed at the end of {@code line}.
     *
     * @param completer the simple class name of the completer, e.g. {@code DomainCompleter}
     * @return each candidate with its description
     */
    Map<String, String> complete(String line, String completer) throws Exception {
        Session session = sessions.create(new ByteArrayInputStream(new byte[0]), System.out, System.err);
        try {
            Completer found = session.getRegistry().getServices(Completer.class).stream()
                    .filter(c -> c.getClass().getSimpleName().equals(completer)).findFirst()
                    .orElseThrow(() -> new AssertionError("no completer " + completer + " in the console"));
            String[] words = line.split(" ", -1);
            CommandLine commandLine = new CommandLine() {
                @Override
                public int getCursorArgumentIndex() {
                    return words.length - 1;
                }

                @Override
                public String getCursorArgument() {
                    return words[words.length - 1];
                }

                @Override
                public int getArgumentPosition() {
                    return words[words.length - 1].length();
                }

                @Override
                public String[] getArguments() {
                    return words;
                }

                @Override
                public int getBufferPosition() {
                    return line.length();
                }

                @Override
                public String getBuffer() {
                    return line;
                }
            };
            List<Candidate> candidates = new ArrayList<>();
            Subject.doAs(subject, (PrivilegedExceptionAction<Object>) () -> {
                found.completeCandidates(session, commandLine, candidates);
                return null;
            });
            Map<String, String> out = new LinkedHashMap<>();
            candidates.forEach(c -> out.put(c.value(), c.descr()));
            return out;
        } finally {
            session.close();
        }
    }

    /**
     * @return what the command printed
     * @throws Exception what the command threw; its message is what the console shows after "Error executing command:"
     */
    String run(String command) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        Session session = sessions.create(new ByteArrayInputStream(new byte[0]), out, out);
        try {
            Subject.doAs(subject, (PrivilegedExceptionAction<Object>) () -> session.execute(command));
        } catch (PrivilegedActionException e) {
            throw e.getException();
        } finally {
            session.close();
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }
}
