//! JSON objects written straight into a buffer, for the events built on every request.
//!
//! Building a `serde_json::Value` first costs a map insertion (a key hash) and an allocation or
//! two per field, and a REST proxy event has about fifty fields; writing the bytes in order
//! costs neither. Keys come out in the order they are written, as in the `Value` maps they
//! replace (`preserve_order`), and strings are escaped by serde_json.

use serde::Serialize;

/// One JSON object being written; [`JsonObject::end`] closes it.
pub(crate) struct JsonObject<'a> {
    out: &'a mut Vec<u8>,
    empty: bool,
}

impl<'a> JsonObject<'a> {
    pub(crate) fn begin(out: &'a mut Vec<u8>) -> Self {
        out.push(b'{');
        Self { out, empty: true }
    }

    /// Writes `"key":` and hands back the buffer for the value.
    pub(crate) fn key(&mut self, key: &str) -> &mut Vec<u8> {
        if !self.empty {
            self.out.push(b',');
        }
        self.empty = false;
        write_str(self.out, key);
        self.out.push(b':');
        self.out
    }

    pub(crate) fn str(&mut self, key: &str, value: &str) {
        write_str(self.key(key), value);
    }

    /// A string, or `null`.
    pub(crate) fn opt_str(&mut self, key: &str, value: Option<&str>) {
        match value {
            Some(value) => self.str(key, value),
            None => self.null(key),
        }
    }

    pub(crate) fn null(&mut self, key: &str) {
        self.key(key).extend_from_slice(b"null");
    }

    pub(crate) fn bool(&mut self, key: &str, value: bool) {
        let text: &[u8] = if value { b"true" } else { b"false" };
        self.key(key).extend_from_slice(text);
    }

    pub(crate) fn int(&mut self, key: &str, value: i64) {
        let out = self.key(key);
        let _ = serde_json::to_writer(out, &value);
    }

    /// Any serializable value (a rare or nested part kept as a `Value`).
    pub(crate) fn value(&mut self, key: &str, value: &impl Serialize) {
        let out = self.key(key);
        // Writing to a Vec cannot fail, and a Value always serializes.
        let _ = serde_json::to_writer(out, value);
    }

    /// `{"name":"value",...}` from pairs with distinct names, or `null` when there are none.
    pub(crate) fn string_map<'p>(
        &mut self,
        key: &str,
        pairs: impl ExactSizeIterator<Item = (&'p str, &'p str)>,
    ) {
        if pairs.len() == 0 {
            return self.null(key);
        }
        let mut map = JsonObject::begin(self.key(key));
        for (name, value) in pairs {
            map.str(name, value);
        }
        map.end();
    }

    /// `{"name":["value",...],...}` from groups with distinct names, or `null` when there
    /// are none.
    pub(crate) fn multi_map(&mut self, key: &str, groups: &[(&str, Vec<&str>)]) {
        if groups.is_empty() {
            return self.null(key);
        }
        let mut map = JsonObject::begin(self.key(key));
        for (name, values) in groups {
            map.value(name, values);
        }
        map.end();
    }

    /// A nested object, closed when `fill` returns.
    pub(crate) fn object(&mut self, key: &str, fill: impl FnOnce(&mut JsonObject<'_>)) {
        let mut inner = JsonObject::begin(self.key(key));
        fill(&mut inner);
        inner.end();
    }

    pub(crate) fn end(self) {
        self.out.push(b'}');
    }
}

fn write_str(out: &mut Vec<u8>, text: &str) {
    // Writing to a Vec cannot fail.
    let _ = serde_json::to_writer(out, text);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_keys_in_order_with_escapes_nulls_and_nesting() {
        let mut out = Vec::new();
        let mut object = JsonObject::begin(&mut out);
        object.str("a\"b", "line\nnext");
        object.opt_str("none", None);
        object.bool("yes", true);
        object.int("n", -42);
        object.string_map("empty", std::iter::empty());
        object.string_map("one", [("k", "v")].into_iter());
        object.multi_map("multi", &[("x", vec!["1", "2"])]);
        object.object("inner", |inner| inner.null("z"));
        object.value("v", &serde_json::json!({"b": 1, "a": [true]}));
        object.end();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"a\"b":"line\nnext","none":null,"yes":true,"n":-42,"empty":null,"one":{"k":"v"},"multi":{"x":["1","2"]},"inner":{"z":null},"v":{"b":1,"a":[true]}}"#
        );
    }
}
