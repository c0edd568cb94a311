//! JSON values that keep their object key order, and writers that print JSON the way Python's
//! `json.dump(obj, f, ensure_ascii=False)` (one line, `", "` and `": "` separators, the layout
//! of the DuEE-fin build script's output) or `json.dump(..., indent=2)` does, so that a file
//! read and written again keeps its bytes.

use std::fmt;

use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A JSON value whose objects keep their keys in file order (serde_json's `Value` sorts them
/// without the `preserve_order` feature, which this workspace does not enable).
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number, kept as serde_json reads it.
    Number(serde_json::Number),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Json>),
    /// An object: `(key, value)` pairs in file order.
    Object(Vec<(String, Json)>),
}

impl Json {
    /// A short name of the value's kind, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "a boolean",
            Json::Number(_) => "a number",
            Json::String(_) => "a string",
            Json::Array(_) => "an array",
            Json::Object(_) => "an object",
        }
    }

    /// The value as a non-negative integer, if it is one.
    pub fn as_usize(&self) -> Option<usize> {
        match self {
            Json::Number(n) => n.as_u64().and_then(|v| usize::try_from(v).ok()),
            _ => None,
        }
    }
}

impl From<usize> for Json {
    fn from(v: usize) -> Self {
        Json::Number(serde_json::Number::from(v))
    }
}

impl From<&str> for Json {
    fn from(v: &str) -> Self {
        Json::String(v.to_string())
    }
}

impl Serialize for Json {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Json::Null => s.serialize_unit(),
            Json::Bool(b) => s.serialize_bool(*b),
            Json::Number(n) => n.serialize(s),
            Json::String(v) => s.serialize_str(v),
            Json::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Json::Object(pairs) => {
                let mut map = s.serialize_map(Some(pairs.len()))?;
                for (k, v) in pairs {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct JsonVisitor;
        impl<'de> Visitor<'de> for JsonVisitor {
            type Value = Json;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_unit<E>(self) -> Result<Json, E> {
                Ok(Json::Null)
            }
            fn visit_none<E>(self) -> Result<Json, E> {
                Ok(Json::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Json, D::Error> {
                Json::deserialize(d)
            }
            fn visit_bool<E>(self, v: bool) -> Result<Json, E> {
                Ok(Json::Bool(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Json, E> {
                Ok(Json::Number(v.into()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
                Ok(Json::Number(v.into()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Json, E> {
                serde_json::Number::from_f64(v)
                    .map(Json::Number)
                    .ok_or_else(|| E::custom("a number that is not finite"))
            }
            fn visit_str<E>(self, v: &str) -> Result<Json, E> {
                Ok(Json::String(v.to_string()))
            }
            fn visit_string<E>(self, v: String) -> Result<Json, E> {
                Ok(Json::String(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Json::Array(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
                let mut pairs = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Json>()? {
                    pairs.push((k, v));
                }
                Ok(Json::Object(pairs))
            }
        }
        d.deserialize_any(JsonVisitor)
    }
}

/// How a writer lays out JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JsonLayout {
    /// One line with Python's default separators `", "` and `": "` (`json.dump(obj, f,
    /// ensure_ascii=False)`, what DocEE's DuEE-fin build script writes).
    #[default]
    PythonLine,
    /// Python's `json.dump(obj, f, ensure_ascii=False, indent=2)`.
    PythonIndent2,
}

/// serde_json formatter with Python's default separators.
struct PythonLine;

impl serde_json::ser::Formatter for PythonLine {
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }
}

/// `value` printed in `layout` (non-ASCII characters unescaped, as `ensure_ascii=False`).
pub fn to_python_json<T: Serialize + ?Sized>(
    value: &T,
    layout: JsonLayout,
) -> serde_json::Result<Vec<u8>> {
    let mut out = Vec::new();
    match layout {
        JsonLayout::PythonLine => {
            let mut ser = serde_json::Serializer::with_formatter(&mut out, PythonLine);
            value.serialize(&mut ser)?;
        }
        JsonLayout::PythonIndent2 => {
            let fmt = serde_json::ser::PrettyFormatter::with_indent(b"  ");
            let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
            value.serialize(&mut ser)?;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_key_order_and_python_separators() {
        let text = r#"[["D1", {"z": 1, "a": [1, 2, null], "中": "文", "e": {}, "l": []}]]"#;
        let v: Json = serde_json::from_str(text).unwrap();
        let out = to_python_json(&v, JsonLayout::PythonLine).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), text);
        let pretty = to_python_json(&v, JsonLayout::PythonIndent2).unwrap();
        let expected = "[\n  [\n    \"D1\",\n    {\n      \"z\": 1,\n      \"a\": [\n        1,\n        2,\n        null\n      ],\n      \"中\": \"文\",\n      \"e\": {},\n      \"l\": []\n    }\n  ]\n]";
        assert_eq!(String::from_utf8(pretty).unwrap(), expected);
    }
}
