// Apache Velocity 1.7 on a warmed JVM rendering the same two templates as
// crates/vtl/benches/render.rs, parsed once and merged many times, with the Oracle shims.
// Run with bench.sh; prints mean nanoseconds per render.

import java.io.StringReader;
import java.io.StringWriter;
import java.util.*;
import org.apache.velocity.Template;
import org.apache.velocity.VelocityContext;
import org.apache.velocity.app.event.EventCartridge;
import org.apache.velocity.runtime.RuntimeInstance;
import org.apache.velocity.runtime.parser.node.SimpleNode;

public class Bench {
    static final String SEED = "{\"greeter\":\"$input.params('greeter')\"}";

    static Template compile(RuntimeInstance ri, String src) throws Exception {
        SimpleNode node = ri.parse(new StringReader(src), "bench");
        Template t = new Template();
        t.setRuntimeServices(ri);
        t.setData(node);
        t.initDocument();
        return t;
    }

    static Map<String, String> pairs(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put(kv[i], kv[i + 1]);
        return m;
    }

    static Map<String, Object> context() {
        Map<String, Object> identity = new LinkedHashMap<>();
        identity.put("sourceIp", "203.0.113.7");
        identity.put("userAgent", "curl/8.4.0");
        identity.put("user", null);
        Map<String, Object> authorizer = new LinkedHashMap<>();
        authorizer.put("principalId", "user-1");
        authorizer.put("stringkey", "value");
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("resourceId", "abc123");
        c.put("resourcePath", "/{proxy+}");
        c.put("httpMethod", "POST");
        c.put("requestId", "c6af9ac6-7b61-11e6-9a41-93e8deadbeef");
        c.put("stage", "dev");
        c.put("apiId", "a1b2c3");
        c.put("identity", identity);
        c.put("authorizer", authorizer);
        return c;
    }

    static double run(Template t, String body, Map<String, Map<String, String>> params, long millis) {
        Map<String, Object> ctxMap = context();
        Map<String, String> stage = new TreeMap<>();
        long n = 0;
        long start = System.nanoTime();
        long end = start + millis * 1_000_000L;
        int sink = 0;
        while (true) {
            for (int i = 0; i < 1000; i++) {
                VelocityContext ctx = new VelocityContext();
                ctx.put("input", new Oracle.Input(body, params));
                ctx.put("util", new Oracle.Util());
                ctx.put("context", ctxMap);
                ctx.put("stageVariables", stage);
                EventCartridge ec = new EventCartridge();
                ec.addEventHandler(new Oracle.NullAsEmpty());
                ec.attachToContext(ctx);
                StringWriter w = new StringWriter();
                t.merge(ctx, w);
                sink += w.getBuffer().length();
            }
            n += 1000;
            long now = System.nanoTime();
            if (now >= end) {
                if (sink == 42) System.out.print("");
                return (now - start) / (double) n;
            }
        }
    }

    public static void main(String[] args) throws Exception {
        String passthrough = new String(java.nio.file.Files.readAllBytes(java.nio.file.Paths.get(args[0])), "UTF-8");
        RuntimeInstance ri = new RuntimeInstance();
        ri.setProperty("runtime.log.logsystem.class", "org.apache.velocity.runtime.log.NullLogChute");
        ri.setProperty("velocimacro.permissions.allow.inline.local.scope", "true");
        ri.init();
        Template seed = compile(ri, SEED);
        Template pt = compile(ri, passthrough);

        Map<String, Map<String, String>> seedParams = new LinkedHashMap<>();
        seedParams.put("path", pairs());
        seedParams.put("querystring", pairs("greeter", "me"));
        seedParams.put("header", pairs());

        Map<String, Map<String, String>> ptParams = new LinkedHashMap<>();
        ptParams.put("path", pairs("proxy", "path1/path2"));
        ptParams.put("querystring", pairs("query1", "querystring1", "query2", "querystring2", "q3", "a b", "q4", "\u00e9", "q5", ""));
        ptParams.put("header", pairs("Host", "api.example.com", "User-Agent", "curl/8.4.0", "Accept", "*/*",
            "Content-Type", "application/json", "X-Amz-Date", "20240101T000000Z", "X-Forwarded-For", "203.0.113.7",
            "X-Forwarded-Port", "443", "X-Forwarded-Proto", "https", "header1", "value1", "header2", "value2"));
        String body = "{\"keybody\":\"valuebody\",\"n\":[1,2,3],\"o\":{\"a\":true}}";

        // Warm up: let the JIT compile the hot paths before measuring.
        run(seed, "", seedParams, 5000);
        run(pt, body, ptParams, 10000);
        System.out.printf("velocity seed: %.0f ns/render%n", run(seed, "", seedParams, 5000));
        System.out.printf("velocity passthrough: %.0f ns/render%n", run(pt, body, ptParams, 5000));
    }
}
