//! Tab-separated values without quoting (the GLUE format), read into `serde` records.
//!
//! Each line is split on tabs, nothing else: quotes are ordinary characters, as in the GLUE
//! files. Every row must have as many columns as the header (or, without a header, as the
//! names given in [`TsvOptions::columns`] or the first row).
//!
//! Rows are deserialized as maps from column name to field when names are known, so struct
//! fields match header names (use `#[serde(rename = "#1 String")]` for odd names), and as
//! sequences otherwise (tuples, tuple structs, `Vec<String>`, or structs in column order).
//! Fields are parsed from text on demand: integers, floats, `bool` (`true`/`false`/`1`/`0`),
//! strings, unit enum variants by name, and `Option`s (an empty field is `None`).

use std::fmt;
use std::path::Path;

use serde::de::value::StrDeserializer;
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor,
};
use serde::forward_to_deserialize_any;

use super::io::LineReader;
use super::{DataError, Result};

/// Layout of a TSV file, for [`read_tsv_with`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TsvOptions {
    /// The first line holds column names (GLUE RTE, MRPC, STS-B). Default `true`.
    pub has_header: bool,
    /// Column names for a file without a header (CoLA, XNLI); rows are then read as maps.
    /// Ignored when `has_header` is set.
    pub columns: Option<Vec<String>>,
}

impl Default for TsvOptions {
    fn default() -> Self {
        Self {
            has_header: true,
            columns: None,
        }
    }
}

impl TsvOptions {
    /// A file without a header, rows read in column order.
    pub fn headerless() -> Self {
        Self {
            has_header: false,
            columns: None,
        }
    }

    /// A file without a header whose columns get these names.
    pub fn with_columns<S: Into<String>>(columns: impl IntoIterator<Item = S>) -> Self {
        Self {
            has_header: false,
            columns: Some(columns.into_iter().map(Into::into).collect()),
        }
    }
}

/// Reads a TSV file with a header line into typed records. See [`read_tsv_with`].
pub fn read_tsv<T: DeserializeOwned>(path: impl AsRef<Path>) -> Result<Vec<T>> {
    read_tsv_with(path, &TsvOptions::default())
}

/// Reads a TSV file into typed records.
///
/// Lines that are entirely empty are skipped (GLUE files may end with one); `\r\n` endings
/// are accepted. Errors name the file and line: a wrong column count
/// ([`DataError::ColumnCount`]) or a field that does not fit the record ([`DataError::Field`],
/// naming the column where known).
pub fn read_tsv_with<T: DeserializeOwned>(
    path: impl AsRef<Path>,
    options: &TsvOptions,
) -> Result<Vec<T>> {
    let path = path.as_ref();
    let mut reader = LineReader::open(path)?;
    let mut names: Option<Vec<String>> = if options.has_header {
        None
    } else {
        options.columns.clone()
    };
    let mut expected = names.as_ref().map(Vec::len);
    let mut header_pending = options.has_header;
    let mut out = Vec::new();
    while let Some((line_no, line)) = reader.next_line()? {
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        if header_pending {
            let mut seen = std::collections::HashSet::new();
            if let Some(column) = fields.iter().find(|f| !seen.insert(**f)) {
                return Err(DataError::DuplicateColumn {
                    path: path.to_owned(),
                    line: line_no,
                    column: (*column).to_owned(),
                });
            }
            names = Some(fields.iter().map(|s| (*s).to_owned()).collect());
            expected = Some(fields.len());
            header_pending = false;
            continue;
        }
        let expected = *expected.get_or_insert(fields.len());
        if fields.len() != expected {
            return Err(DataError::ColumnCount {
                path: path.to_owned(),
                line: line_no,
                expected,
                found: fields.len(),
            });
        }
        let row = RowDeserializer {
            fields: &fields,
            names: names.as_deref(),
        };
        let record = T::deserialize(row).map_err(|e| DataError::Field {
            path: path.to_owned(),
            line: line_no,
            message: e.0,
        })?;
        out.push(record);
    }
    Ok(out)
}

/// Deserialization error of one row; converted into [`DataError::Field`].
#[derive(Debug)]
struct RowError(String);

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RowError {}

impl de::Error for RowError {
    fn custom<M: fmt::Display>(msg: M) -> Self {
        Self(msg.to_string())
    }
}

impl RowError {
    fn in_column(self, column: &str) -> Self {
        Self(format!("column `{column}`: {}", self.0))
    }
}

/// A whole row: a map (with names) or a sequence (without).
struct RowDeserializer<'a> {
    fields: &'a [&'a str],
    names: Option<&'a [String]>,
}

impl<'de> de::Deserializer<'de> for RowDeserializer<'_> {
    type Error = RowError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, RowError> {
        match self.names {
            Some(names) => visitor.visit_map(RowMap {
                names,
                fields: self.fields,
                next: 0,
            }),
            None => visitor.visit_seq(RowSeq {
                fields: self.fields,
                next: 0,
            }),
        }
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, RowError> {
        if self.names.is_none() {
            return Err(RowError(
                "a row without column names cannot be read as a map; give TsvOptions::columns"
                    .to_owned(),
            ));
        }
        self.deserialize_any(visitor)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, RowError> {
        visitor.visit_seq(RowSeq {
            fields: self.fields,
            next: 0,
        })
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, RowError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, RowError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, RowError> {
        visitor.visit_newtype_struct(self)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct struct enum identifier ignored_any
    }
}

struct RowMap<'a> {
    names: &'a [String],
    fields: &'a [&'a str],
    next: usize,
}

impl<'de> MapAccess<'de> for RowMap<'_> {
    type Error = RowError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, RowError> {
        let Some(name) = self.names.get(self.next) else {
            return Ok(None);
        };
        let key: StrDeserializer<'_, RowError> = name.as_str().into_deserializer();
        seed.deserialize(key).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, RowError> {
        let index = self.next;
        self.next += 1;
        let value = self.fields.get(index).copied().unwrap_or_default();
        seed.deserialize(FieldDeserializer(value))
            .map_err(|e| e.in_column(&self.names[index]))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.names.len() - self.next)
    }
}

struct RowSeq<'a> {
    fields: &'a [&'a str],
    next: usize,
}

impl<'de> SeqAccess<'de> for RowSeq<'_> {
    type Error = RowError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, RowError> {
        let Some(value) = self.fields.get(self.next) else {
            return Ok(None);
        };
        let index = self.next;
        self.next += 1;
        seed.deserialize(FieldDeserializer(value))
            .map(Some)
            .map_err(|e| e.in_column(&(index + 1).to_string()))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.fields.len() - self.next)
    }
}

/// One field, parsed from text into whatever the record asks for.
struct FieldDeserializer<'a>(&'a str);

macro_rules! parse_number {
    ($($method:ident => $ty:ty, $visit:ident;)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, RowError> {
                match self.0.trim().parse::<$ty>() {
                    Ok(n) => visitor.$visit(n),
                    Err(e) => Err(RowError(format!(
                        "cannot parse {:?} as {}: {e}",
                        self.0,
                        stringify!($ty)
                    ))),
                }
            }
        )*
    };
}

impl<'de> de::Deserializer<'de> for FieldDeserializer<'_> {
    type Error = RowError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, RowError> {
        visitor.visit_str(self.0)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, RowError> {
        match self.0.trim() {
            "true" | "True" | "TRUE" | "1" => visitor.visit_bool(true),
            "false" | "False" | "FALSE" | "0" => visitor.visit_bool(false),
            _ => Err(RowError(format!("cannot parse {:?} as bool", self.0))),
        }
    }

    parse_number! {
        deserialize_i8 => i8, visit_i8;
        deserialize_i16 => i16, visit_i16;
        deserialize_i32 => i32, visit_i32;
        deserialize_i64 => i64, visit_i64;
        deserialize_i128 => i128, visit_i128;
        deserialize_u8 => u8, visit_u8;
        deserialize_u16 => u16, visit_u16;
        deserialize_u32 => u32, visit_u32;
        deserialize_u64 => u64, visit_u64;
        deserialize_u128 => u128, visit_u128;
        deserialize_f32 => f32, visit_f32;
        deserialize_f64 => f64, visit_f64;
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, RowError> {
        if self.0.is_empty() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, RowError> {
        visitor.visit_unit()
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, RowError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, RowError> {
        let variant: StrDeserializer<'_, RowError> = self.0.into_deserializer();
        visitor.visit_enum(variant)
    }

    forward_to_deserialize_any! {
        char str string bytes byte_buf unit_struct seq tuple tuple_struct map struct
        identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    fn row<T: DeserializeOwned>(fields: &[&str], names: Option<&[String]>) -> Result<T, RowError> {
        T::deserialize(RowDeserializer { fields, names })
    }

    #[derive(Debug, Deserialize, PartialEq)]
    enum Gold {
        #[serde(rename = "yes")]
        Yes,
        #[serde(rename = "no")]
        No,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Record {
        flag: bool,
        score: f64,
        note: Option<String>,
        gold: Gold,
        id: i64,
    }

    #[test]
    fn fields_parse_by_type() {
        let names: Vec<String> = ["flag", "score", "note", "gold", "id"]
            .map(String::from)
            .to_vec();
        let r: Record = row(&["1", " 2.5", "", "no", "-7"], Some(&names)).unwrap();
        assert_eq!(
            r,
            Record {
                flag: true,
                score: 2.5,
                note: None,
                gold: Gold::No,
                id: -7
            }
        );
        let r: Record = row(&["False", "0", "x", "yes", "3"], None).unwrap();
        assert_eq!(
            (r.flag, r.note.as_deref(), r.gold),
            (false, Some("x"), Gold::Yes)
        );
    }

    #[test]
    fn errors_name_the_column() {
        let names: Vec<String> = ["flag", "score", "note", "gold", "id"]
            .map(String::from)
            .to_vec();
        let err = row::<Record>(&["maybe", "1", "", "no", "1"], Some(&names)).unwrap_err();
        assert!(
            err.0
                .starts_with("column `flag`: cannot parse \"maybe\" as bool"),
            "{err}"
        );
        let err = row::<Record>(&["1", "1", "", "perhaps", "1"], Some(&names)).unwrap_err();
        assert!(
            err.0.contains("column `gold`") && err.0.contains("perhaps"),
            "{err}"
        );
        let err = row::<(u8, u8)>(&["1", "x"], None).unwrap_err();
        assert!(err.0.starts_with("column `2`"), "{err}");
    }
}
