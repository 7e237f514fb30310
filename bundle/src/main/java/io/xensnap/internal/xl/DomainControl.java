package io.xensnap.internal.xl;

import java.nio.file.Path;
import java.util.Optional;

/**
 * What xensnap asks of the toolstack about a domain as a whole. libxl's own tool does it, so that every file, lock
 * and xenstore node libxl keeps for a domain stays libxl's: xensnap never pauses or saves a domain behind its back.
 */
public interface DomainControl {

    /** Pauses every vCPU of {@code domid}. */
    void pause(int domid) throws DomainControlException;

    /** Lets a paused {@code domid} run again. */
    void unpause(int domid) throws DomainControlException;

    /**
     * Saves the memory and device state of {@code domid}, with libxl's config of the domain, into {@code image}
     * (xl's save-file format: a header, libxl's config as JSON, then libxl's migration stream).
     *
     * @param leavePaused true: the domain stays, paused, at the instant of the save ({@code xl save -p}); false: the
     *                    domain is destroyed once the image is complete ({@code xl save})
     */
    void save(int domid, Path image, boolean leavePaused) throws DomainControlException;

    /**
     * Starts a domain from a save image: it runs from the instant of the save, with a new domid.
     *
     * @param config an xl.cfg to use instead of the config the image carries; empty: the image's own
     */
    void restore(Path image, Optional<Path> config) throws DomainControlException;

    /**
     * Starts a domain from an xl.cfg: it boots, with a new domid.
     */
    void create(Path config) throws DomainControlException;

    /**
     * Parses an xl.cfg as {@link #create} would and starts nothing ({@code xl -N create}, xl's dry run).
     *
     * @return libxl's domain config the text makes, as JSON
     */
    String parse(Path config) throws DomainControlException;

    /** Ends {@code domid} at once, as a power cut would. */
    void destroy(int domid) throws DomainControlException;

    /** @return what the toolstack says {@code domid} is doing now */
    DomainState state(int domid) throws DomainControlException;
}
