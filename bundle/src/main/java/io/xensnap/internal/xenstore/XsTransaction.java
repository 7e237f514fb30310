package io.xensnap.internal.xenstore;

import java.util.List;
import java.util.Optional;

/** The view of one transaction: every operation carries its id. Valid only while its body runs. */
final class XsTransaction implements XenstoreOps {

    private final XenstoreClient client;
    private final int txId;

    XsTransaction(XenstoreClient client, int txId) {
        this.client = client;
        this.txId = txId;
    }

    @Override
    public byte[] readBytes(String path) throws XenstoreException {
        return client.readBytes(txId, path);
    }

    @Override
    public List<Optional<String>> readAllIfExist(List<String> paths) throws XenstoreException {
        return client.readAllIfExist(txId, paths);
    }

    @Override
    public void write(String path, byte[] value) throws XenstoreException {
        client.write(txId, path, value);
    }

    @Override
    public void mkdir(String path) throws XenstoreException {
        client.mkdir(txId, path);
    }

    @Override
    public void rm(String path) throws XenstoreException {
        client.rm(txId, path);
    }

    @Override
    public List<String> directory(String path) throws XenstoreException {
        return client.directory(txId, path);
    }

    @Override
    public List<XsPerm> getPerms(String path) throws XenstoreException {
        return client.getPerms(txId, path);
    }

    @Override
    public void setPerms(String path, List<XsPerm> perms) throws XenstoreException {
        client.setPerms(txId, path, perms);
    }

    @Override
    public String toString() {
        return "transaction " + Integer.toUnsignedString(txId);
    }
}
