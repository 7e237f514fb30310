package io.xensnap.internal.qmp;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.xensnap.internal.qmp.QmpException.Kind;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Runs snapshot actions as one QMP {@code transaction}. */
public final class SnapshotTransaction {

    private final QmpConnection qmp;

    public SnapshotTransaction(QmpConnection qmp) {
        this.qmp = qmp;
    }

    /**
     * @throws QmpException             PRECONDITION, before anything is sent, when an overlay QEMU would create already
     *                                  exists (QEMU would overwrite it silently)
     * @throws QmpTransactionException  when QEMU refused the transaction; nothing changed in QEMU, but see
     *                                  {@link QmpTransactionException#createdFiles()}
     * @throws QmpException             TIMEOUT or CONNECTION: the outcome is unknown, check with {@link BlockDevices}
     */
    public void run(List<TransactionAction> actions) throws QmpException {
        if (actions.isEmpty()) {
            throw new IllegalArgumentException("a transaction needs at least one action");
        }
        List<Path> created = new ArrayList<>();
        for (TransactionAction a : actions) {
            if (a instanceof TransactionAction.ExternalSnapshot e
                    && e.mode() == TransactionAction.ExternalSnapshot.Mode.ABSOLUTE_PATHS) {
                if (Files.exists(e.overlay())) {
                    throw QmpException.of(Kind.PRECONDITION, qmp.domain(), "overlay " + e.overlay()
                            + " exists already; QEMU would overwrite it");
                }
                created.add(e.overlay());
            }
        }
        ObjectNode args = qmp.arguments();
        ArrayNode list = args.putArray("actions");
        for (TransactionAction a : actions) {
            a.toJson(list.addObject());
        }
        try {
            qmp.execute("transaction", args);
        } catch (QmpException e) {
            if (e.kind() != Kind.ERROR_REPLY) {
                throw e;
            }
            throw new QmpTransactionException(e, created.stream().filter(Files::exists).toList());
        }
    }
}
