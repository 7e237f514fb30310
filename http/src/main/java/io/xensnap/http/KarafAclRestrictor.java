package io.xensnap.http;

import java.util.Set;

import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.MalformedObjectNameException;
import javax.management.ObjectName;

import org.jolokia.restrictor.Restrictor;
import org.jolokia.util.HttpMethod;
import org.jolokia.util.RequestType;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * Jolokia's access rules, decided by Karaf's JMX ACL ({@code etc/jmx.acl*.cfg}) for the user of the HTTP request.
 *
 * <p>Jolokia runs against the platform MBeanServer, which Karaf does not guard: Karaf checks its JMX ACL only in its
 * RMI connector. So without this restrictor any authenticated user, a viewer too, could invoke any operation over
 * HTTP. Jolokia authenticates against Karaf's JAAS realm and handles the request inside {@code Subject.doAs};
 * Karaf's {@code org.apache.karaf:type=security,area=jmx,name=<karaf.name>} MBean ({@code canInvoke}) reads the roles
 * of that subject from the calling thread and applies the same rules as the RMI connector.
 *
 * <p>A Jolokia restrictor sees an operation's name, never its arguments, while Karaf's ACL may decide by argument
 * (its config MBeans do: a manager may write some PIDs and not others, xensnap's among the refused). {@code canInvoke}
 * without arguments answers whether <em>some</em> call could be allowed, which would let a manager write any PID. So
 * operations are allowed only on MBeans of the {@code io.xensnap} domain, whose ACL decides by name alone; reading
 * attributes (no arguments) is decided by the ACL everywhere; writing attributes and notifications are refused.
 * Requests from a browser page (an {@code Origin} or {@code Referer} header) are refused: Basic credentials a browser
 * remembers must not let another site's page act on the host.
 */
@Component(service = Restrictor.class)
public final class KarafAclRestrictor implements Restrictor {

    /** The only JMX domain whose operations HTTP may reach: its ACL has no argument rules. */
    static final String DOMAIN = "io.xensnap";

    /** Karaf's JMXSecurityMBean; its name ends in {@code name=<karaf.name>} */
    private static final ObjectName JMX_SECURITY = name("org.apache.karaf:type=security,area=jmx,*");
    private static final String[] NAME_AND_METHOD = {String.class.getName(), String.class.getName()};

    private final MBeanServer server;

    @org.osgi.service.component.annotations.Activate
    public KarafAclRestrictor(@Reference MBeanServer server) {
        this.server = server;
    }

    @Override
    public boolean isHttpMethodAllowed(HttpMethod method) {
        return true;
    }

    @Override
    public boolean isTypeAllowed(RequestType type) {
        return switch (type) {
            case READ, LIST, SEARCH, VERSION, EXEC -> true;
            // WRITE: setters are not for HTTP; notifications would register listeners outside any ACL
            default -> false;
        };
    }

    @Override
    public boolean isAttributeReadAllowed(ObjectName mbean, String attribute) {
        return allowed(mbean, "get" + attribute) || allowed(mbean, "is" + attribute);
    }

    @Override
    public boolean isAttributeWriteAllowed(ObjectName mbean, String attribute) {
        return false;
    }

    @Override
    public boolean isOperationAllowed(ObjectName mbean, String operation) {
        return DOMAIN.equals(mbean.getDomain()) && !mbean.isPattern() && allowed(mbean, operation);
    }

    @Override
    public boolean isRemoteAccessAllowed(String... hostOrAddress) {
        // the HTTP service listens on the loopback address only (feature xensnap-http)
        return true;
    }

    @Override
    public boolean isOriginAllowed(String origin, boolean strictCheck) {
        // null: the request has neither an Origin nor a Referer header (curl, a manager's own client)
        return origin == null;
    }

    private boolean allowed(ObjectName mbean, String method) {
        try {
            Set<ObjectName> security = server.queryNames(JMX_SECURITY, null);
            if (security.size() != 1) {
                // without Karaf's answer (management feature stopped) nothing is allowed
                return false;
            }
            return Boolean.TRUE.equals(server.invoke(security.iterator().next(), "canInvoke",
                    new Object[] {mbean.getCanonicalName(), method}, NAME_AND_METHOD));
        } catch (JMException e) {
            // no such MBean, no such method, or Karaf's security MBean absent: nothing is allowed
            return false;
        }
    }

    private static ObjectName name(String n) {
        try {
            return new ObjectName(n);
        } catch (MalformedObjectNameException e) {
            throw new IllegalArgumentException(n, e);
        }
    }
}
