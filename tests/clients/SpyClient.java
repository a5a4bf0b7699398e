// spymemcached (Debian libspymemcached-java 2.12), a Java memcached
// client, against one daemon over the text or the binary protocol:
//   java -cp /usr/share/java/spymemcached.jar SpyClient.java HOST:PORT text|binary
// Prints one "ok N - name" or "not ok N - name" line per check (like
// ClientTap.pm) and exits 0 only when every check passed. Run by
// tests/clients/test_java_spymemcached.py (the JDK compiles this file
// on the fly).
import java.net.InetSocketAddress;
import java.util.*;
import java.util.concurrent.*;
import net.spy.memcached.*;
import net.spy.memcached.internal.*;

public class SpyClient {
    static int count = 0, failed = 0;
    static void check(boolean ok, String name) {
        count++;
        System.out.println((ok ? "ok " : "not ok ") + count + " - " + name);
        if (!ok) failed++;
    }
    static void eq(Object got, Object want, String name) {
        boolean ok = Objects.equals(got, want);
        check(ok, name);
        if (!ok) System.out.println("#   got: " + got + "\n#  want: " + want);
    }
    public static void main(String[] a) throws Exception {
        if (a[0].equals("--probe")) /* the library loads: nothing else */
            System.exit(ConnectionFactoryBuilder.class.getName() != null ? 0 : 1);
        String[] hp = a[0].split(":");
        boolean binary = a[1].equals("binary");
        System.setProperty("net.spy.log.LoggerImpl", "net.spy.memcached.compat.log.SunLogger");
        java.util.logging.Logger.getLogger("net.spy.memcached").setLevel(java.util.logging.Level.SEVERE);
        ConnectionFactory cf = new ConnectionFactoryBuilder()
            .setProtocol(binary ? ConnectionFactoryBuilder.Protocol.BINARY : ConnectionFactoryBuilder.Protocol.TEXT)
            .setOpTimeout(5000).build();
        MemcachedClient mc = new MemcachedClient(cf, Arrays.asList(new InetSocketAddress(hp[0], Integer.parseInt(hp[1]))));
        String t = binary ? "binary " : "text ";
        check(mc.flush().get(), t + "flush");
        check(mc.set("s", 0, "hello").get(), t + "set");
        eq(mc.get("s"), "hello", t + "get");
        check(mc.set("i", 0, 42).get(), t + "set int");
        eq(mc.get("i"), 42, t + "get int");
        HashMap<String, Object> m = new HashMap<>(); m.put("x", Arrays.asList(1, 2));
        check(mc.set("o", 0, m).get(), t + "set object");
        eq(mc.get("o"), m, t + "get object");
        eq(mc.get("missing"), null, t + "miss");
        eq(mc.add("s", 0, "x").get(), false, t + "add of a present key");
        eq(mc.replace("nope", 0, "x").get(), false, t + "replace of a missing key");
        check(mc.append(0, "s", "!").get(), t + "append");
        check(mc.prepend(0, "s", "<").get(), t + "prepend");
        eq(mc.get("s"), "<hello!", t + "appended");
        eq(mc.incr("n", 1), -1L, t + "incr of a missing key");
        eq(mc.incr("n", 1, 10), 10L, t + "incr with default");
        eq(mc.incr("n", 5), 15L, t + "incr");
        eq(mc.decr("n", 100), 0L, t + "decr stops at 0");
        CASValue<Object> cv = mc.gets("s");
        eq(cv.getValue(), "<hello!", t + "gets");
        eq(mc.cas("s", cv.getCas(), "swapped"), CASResponse.OK, t + "cas");
        eq(mc.cas("s", cv.getCas(), "again"), CASResponse.EXISTS, t + "stale cas");
        eq(mc.cas("missing", 1, "x"), CASResponse.NOT_FOUND, t + "cas of a missing key");
        check(mc.touch("s", 100).get(), t + "touch");
        eq(mc.touch("missing", 100).get(), false, t + "touch of a missing key");
        check(mc.delete("s").get(), t + "delete");
        eq(mc.delete("s").get(), false, t + "delete again");
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < 300; i++) { keys.add("k" + i); mc.set("k" + i, 0, "v" + i); }
        Map<String, Object> got = mc.getBulk(keys);
        eq(got.size(), 300, t + "getBulk");
        eq(got.get("k299"), "v299", t + "getBulk values");
        StringBuilder big = new StringBuilder(); for (int i = 0; i < 900 * 1024; i++) big.append('b');
        check(mc.set("big", 0, big.toString()).get(), t + "set 900 KB");
        eq(mc.get("big"), big.toString(), t + "get 900 KB");
        Map<java.net.SocketAddress, Map<String, String>> st = mc.getStats();
        check(st.values().iterator().next().containsKey("curr_items"), t + "stats");
        check(mc.getVersions().values().iterator().next() != null, t + "version");
        mc.shutdown(5, TimeUnit.SECONDS);
        System.out.println("# " + count + " checks, " + failed + " failed");
        System.exit(failed == 0 ? 0 : 1);
    }
}
