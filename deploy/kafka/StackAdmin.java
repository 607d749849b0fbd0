/*
 * StackAdmin: creates the local stack's topics (deploy/local/topics.txt) and
 * ACLs (deploy/kafka/acls.txt) in one JVM through the Kafka Admin API, as
 * the admin principal. deploy/local/stack runs it on every `up` with Java's
 * source launcher (java StackAdmin.java, the broker's jars on the class
 * path); both steps are idempotent (existing topics and ACLs are left).
 *
 * usage: java -cp 'libs/*' StackAdmin.java BOOTSTRAP CLIENT.properties TOPICS ACLS
 * Prints one line: "topics created N of M, acls K".
 */
import java.io.FileReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

public class StackAdmin {
    static List<String[]> rows(String path) throws Exception {
        List<String[]> out = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of(path))) {
            int hash = line.indexOf('#');
            if (hash >= 0)
                line = line.substring(0, hash);
            line = line.trim();
            if (!line.isEmpty())
                out.add(line.split("\\s+"));
        }
        return out;
    }

    static ResourcePattern pattern(ResourceType type, String name) {
        if (!name.equals("*") && name.endsWith("*"))
            return new ResourcePattern(type, name.substring(0, name.length() - 1), PatternType.PREFIXED);
        return new ResourcePattern(type, name, PatternType.LITERAL);
    }

    public static void main(String[] args) throws Exception {
        Properties props = new Properties();
        try (FileReader r = new FileReader(args[1])) {
            props.load(r);
        }
        props.put("bootstrap.servers", args[0]);
        props.put("default.api.timeout.ms", "20000"); // the stack retries; never minutes
        props.put("request.timeout.ms", "10000");
        try (Admin admin = Admin.create(props)) {
            Set<String> have = admin.listTopics().names().get();
            List<NewTopic> missing = new ArrayList<>();
            List<String[]> topics = rows(args[2]);
            for (String[] t : topics) {
                if (have.contains(t[0]))
                    continue;
                NewTopic nt = new NewTopic(t[0], Integer.parseInt(t[1]), (short) 1);
                if (t.length > 2) {
                    Map<String, String> cfg = new HashMap<>();
                    for (String kv : t[2].split(",")) {
                        String[] p = kv.split("=", 2);
                        cfg.put(p[0], p[1]);
                    }
                    nt.configs(cfg);
                }
                missing.add(nt);
            }
            if (!missing.isEmpty()) {
                try {
                    admin.createTopics(missing).all().get();
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException))
                        throw e;
                }
            }
            List<AclBinding> acls = new ArrayList<>();
            for (String[] a : rows(args[3])) {
                if (a.length < 3)
                    throw new IllegalArgumentException("acls: short line: " + String.join(" ", a));
                String principal = "User:" + a[0];
                ResourceType type = a[1].equals("group") ? ResourceType.GROUP : ResourceType.TOPIC;
                AclOperation op;
                switch (a[1]) {
                case "read":
                case "group":
                    op = AclOperation.READ;
                    break;
                case "write":
                    op = AclOperation.WRITE;
                    break;
                default:
                    throw new IllegalArgumentException("acls: unknown verb " + a[1]);
                }
                for (int i = 2; i < a.length; i++) {
                    ResourcePattern rp = pattern(type, a[i]);
                    for (AclOperation o : new AclOperation[] {op, AclOperation.DESCRIBE})
                        acls.add(new AclBinding(
                            rp, new AccessControlEntry(principal, "*", o, AclPermissionType.ALLOW)));
                }
            }
            admin.createAcls(acls).all().get();
            // The controller has them; wait until the broker's authorizer does
            // too, so that the services started next are not refused.
            for (int i = 0; i < 100; i++) {
                if (admin.describeAcls(AclBindingFilter.ANY).values().get().containsAll(acls))
                    break;
                Thread.sleep(100);
            }
            System.out.printf("topics created %d of %d, acls %d%n", missing.size(), topics.size(),
                              acls.size());
        }
    }
}
