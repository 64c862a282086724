// The reference renderer for portico-vtl: Apache Velocity 1.7 with Jayway JsonPath 2.0 and
// API Gateway's $input/$util/$context/$stageVariables built from AWS's documented semantics.
//
// Reads cases as JSON lines on stdin ({id, template, body, params, context, stage}) and writes
// one result line per case ({id, output} or {id, error, message}, plus any overrides).
// record.sh drives it; the Rust test reads the recorded results, so Java is only needed to
// re-record.

import com.jayway.jsonpath.JsonPath;
import com.jayway.jsonpath.PathNotFoundException;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.StringWriter;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.*;
import net.minidev.json.JSONValue;
import org.apache.commons.lang.StringEscapeUtils;
import org.apache.velocity.VelocityContext;
import org.apache.velocity.app.VelocityEngine;
import org.apache.velocity.app.event.EventCartridge;
import org.apache.velocity.app.event.ReferenceInsertionEventHandler;
import org.apache.velocity.exception.ParseErrorException;

public class Oracle {
    /** $input: the body and the request parameters. */
    public static class Input {
        private final String body;
        private final Map<String, Map<String, String>> params;

        /** What JSONPath reads: API Gateway treats an empty body as `{}` (a GET through the
         *  passthrough template yields `"body-json" : {}`). */
        private final String jsonBody;

        Input(String body, Map<String, Map<String, String>> params) {
            this.body = body;
            this.params = params;
            this.jsonBody = body.trim().isEmpty() ? "{}" : body;
        }

        public String getBody() { return body; }

        /** JSONPath result as a Java object; a path that matches nothing (or bad JSON) is null. */
        public Object path(String p) {
            try {
                return JsonPath.read(jsonBody, p);
            } catch (Exception e) {
                return null;
            }
        }

        /** JSONPath result serialised as JSON; a path that matches nothing prints as empty. */
        public String json(String p) {
            Object o;
            try {
                o = JsonPath.read(jsonBody, p);
            } catch (Exception e) {
                return "";
            }
            return JSONValue.toJSONString(o);
        }

        public Map<String, Map<String, String>> params() {
            Map<String, Map<String, String>> all = new LinkedHashMap<>();
            for (String k : new String[] {"path", "querystring", "header"}) {
                all.put(k, new LinkedHashMap<>(params.get(k)));
            }
            return all;
        }

        /** Path, then query string, then header (case-insensitive); missing is "". */
        public String params(String name) {
            if (name == null) return null;
            String v = params.get("path").get(name);
            if (v == null) v = params.get("querystring").get(name);
            if (v == null) {
                for (Map.Entry<String, String> e : params.get("header").entrySet()) {
                    if (e.getKey().equalsIgnoreCase(name)) { v = e.getValue(); break; }
                }
            }
            return v == null ? "" : v;
        }
    }

    /** $util. */
    public static class Util {
        public String escapeJavaScript(Object s) {
            return s == null ? null : StringEscapeUtils.escapeJavaScript(s.toString());
        }
        public Object parseJson(Object s) {
            return s == null ? null : JsonPath.parse(s.toString()).read("$");
        }
        public String urlEncode(Object s) throws Exception {
            return s == null ? null : URLEncoder.encode(s.toString(), "UTF-8");
        }
        public String urlDecode(Object s) throws Exception {
            return s == null ? null : URLDecoder.decode(s.toString(), "UTF-8");
        }
        public String base64Encode(Object s) {
            return s == null ? null
                : Base64.getEncoder().encodeToString(s.toString().getBytes(StandardCharsets.UTF_8));
        }
        public String base64Decode(Object s) {
            return s == null ? null
                : new String(Base64.getDecoder().decode(s.toString()), StandardCharsets.UTF_8);
        }
    }

    /** AWS prints null and undefined references as empty text. */
    public static class NullAsEmpty implements ReferenceInsertionEventHandler {
        public Object referenceInsert(String reference, Object value) {
            return value == null ? "" : value;
        }
    }

    @SuppressWarnings("unchecked")
    static Map<String, String> pairs(Object o) {
        Map<String, String> m = new LinkedHashMap<>();
        if (o instanceof List) {
            for (Object p : (List<Object>) o) {
                List<Object> kv = (List<Object>) p;
                m.put(kv.get(0).toString(), kv.get(1).toString());
            }
        }
        return m;
    }

    @SuppressWarnings("unchecked")
    public static void main(String[] args) throws Exception {
        VelocityEngine ve = new VelocityEngine();
        ve.setProperty("runtime.log.logsystem.class", "org.apache.velocity.runtime.log.NullLogChute");
        ve.setProperty("directive.foreach.maxloops", "1000");
        // Each template has its own macros, as each API Gateway template does.
        ve.setProperty("velocimacro.permissions.allow.inline.local.scope", "true");
        ve.init();
        PrintStream out = new PrintStream(System.out, true, "UTF-8");
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            if (line.isEmpty()) continue;
            Map<String, Object> c = JsonPath.parse(line).read("$");
            Map<String, Object> params = (Map<String, Object>) c.get("params");
            Map<String, Map<String, String>> pm = new LinkedHashMap<>();
            for (String k : new String[] {"path", "querystring", "header"}) {
                pm.put(k, pairs(params == null ? null : params.get(k)));
            }
            Map<String, Object> context = new LinkedHashMap<>();
            Object cj = c.get("context");
            if (cj instanceof Map) context.putAll((Map<String, Object>) cj);
            context.remove("requestOverride");
            context.remove("responseOverride");
            Map<String, Object> reqO = new LinkedHashMap<>();
            reqO.put("header", new LinkedHashMap<String, Object>());
            reqO.put("querystring", new LinkedHashMap<String, Object>());
            reqO.put("path", new LinkedHashMap<String, Object>());
            Map<String, Object> resO = new LinkedHashMap<>();
            resO.put("header", new LinkedHashMap<String, Object>());
            context.put("requestOverride", reqO);
            context.put("responseOverride", resO);
            Map<String, String> stage = new TreeMap<>();
            Object sj = c.get("stage");
            if (sj instanceof Map) {
                for (Map.Entry<String, Object> e : ((Map<String, Object>) sj).entrySet()) {
                    stage.put(e.getKey(), String.valueOf(e.getValue()));
                }
            }

            VelocityContext ctx = new VelocityContext();
            ctx.put("input", new Input((String) c.get("body"), pm));
            ctx.put("util", new Util());
            ctx.put("context", context);
            ctx.put("stageVariables", stage);
            EventCartridge ec = new EventCartridge();
            ec.addEventHandler(new NullAsEmpty());
            ec.attachToContext(ctx);

            Map<String, Object> r = new LinkedHashMap<>();
            r.put("id", c.get("id"));
            StringWriter w = new StringWriter();
            try {
                ve.evaluate(ctx, w, "template", (String) c.get("template"));
                r.put("output", w.toString());
                Object st = resO.get("status");
                if (st != null) r.put("status", st.toString());
                List<Object> hs = new ArrayList<>();
                for (Map.Entry<String, Object> e : ((Map<String, Object>) resO.get("header")).entrySet()) {
                    hs.add(Arrays.asList(e.getKey(), String.valueOf(e.getValue())));
                }
                if (!hs.isEmpty()) r.put("response_header", hs);
                for (String k : new String[] {"header", "querystring", "path"}) {
                    List<Object> rq = new ArrayList<>();
                    for (Map.Entry<String, Object> e : ((Map<String, Object>) reqO.get(k)).entrySet()) {
                        rq.add(Arrays.asList(e.getKey(), String.valueOf(e.getValue())));
                    }
                    if (!rq.isEmpty()) r.put("request_" + k, rq);
                }
                // Stock Velocity (no null-as-empty handler) prints undefined references as
                // written; record it where AWS's rendering differs, as the deliberate difference.
                VelocityContext stock = new VelocityContext();
                for (Object k : ctx.getKeys()) stock.put((String) k, ctx.get((String) k));
                StringWriter sw = new StringWriter();
                try {
                    ve.evaluate(stock, sw, "template", (String) c.get("template"));
                    if (!sw.toString().equals(w.toString())) r.put("stock_velocity_output", sw.toString());
                } catch (Throwable e) {
                    r.put("stock_velocity_output", "error: " + e.getClass().getSimpleName());
                }
            } catch (ParseErrorException e) {
                r.put("error", "parse");
                r.put("message", String.valueOf(e.getMessage()).split("\n")[0]);
            } catch (Throwable e) {
                r.put("error", "render");
                r.put("message", e.getClass().getSimpleName() + ": " + String.valueOf(e.getMessage()).split("\n")[0]);
            }
            out.println(JSONValue.toJSONString(r));
        }
    }
}
