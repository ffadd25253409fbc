// Health probe for the development Kafka broker: one Admin metadata round trip
// (DescribeCluster) against the bootstrap address given as the first argument.
// Run as a single-file source program: java -cp '<kafka libs>/*' Health.java 127.0.0.1:19092
// Exit 0 and print "ok cluster=<id> nodes=<n> controller=<id>", or exit 1 with the error.
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterResult;

public class Health {
  public static void main(String[] args) {
    String bootstrap = args.length > 0 ? args[0] : "127.0.0.1:19092";
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "3000");
    p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "4000");
    try (Admin admin = Admin.create(p)) {
      DescribeClusterResult r = admin.describeCluster();
      String id = r.clusterId().get(5, TimeUnit.SECONDS);
      int nodes = r.nodes().get(5, TimeUnit.SECONDS).size();
      int controller = r.controller().get(5, TimeUnit.SECONDS).id();
      System.out.println("ok cluster=" + id + " nodes=" + nodes + " controller=" + controller);
    } catch (Exception e) {
      System.out.println("unhealthy: " + e);
      System.exit(1);
    }
  }
}
