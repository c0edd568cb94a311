//! ArxivCap rows as Parquet (the released format, spec §2.3): one row per paper with the image
//! bytes embedded, written and read with the `parquet`/`arrow` crates (cargo feature `parquet`,
//! on by default).
//!
//! Columns: `arxiv_id`, `title`, `abstract` (strings); `meta` (struct of `meta_from_kaggle`,
//! `meta_from_s2`, each the JSON text of the object — a deviation: the released files nest
//! Arrow structs there); `caption_images`: list of struct {`caption`, `cil_pairs`: list of
//! struct {`sub_caption`, `image_file`, `image`: struct {`bytes`, `path`} (Hugging Face's
//! `Image` layout), `image_ocr`: list of strings}}; `src` (nullable string). Reading accepts
//! 32- and 64-bit string/binary offsets, and a `meta` of JSON text (ours) or of nested structs
//! (the released files), turned into JSON.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::builder::OffsetBufferBuilder;
use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, BinaryArray, ListArray, RecordBatch, StringArray, StructArray};
use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use crate::error::{ArxivCapError, Result};

/// A result whose error is a message, located by the caller.
type Plain<T> = std::result::Result<T, String>;
use crate::schema::{ArxivCapRow, CaptionImages, CilPair, Meta};

fn list_of(data_type: DataType, nullable: bool) -> DataType {
    DataType::List(Arc::new(Field::new_list_field(data_type, nullable)))
}

fn image_fields() -> Fields {
    Fields::from(vec![
        Field::new("bytes", DataType::Binary, true),
        Field::new("path", DataType::Utf8, true),
    ])
}

fn pair_fields() -> Fields {
    Fields::from(vec![
        Field::new("sub_caption", DataType::Utf8, false),
        Field::new("image_file", DataType::Utf8, false),
        Field::new("image", DataType::Struct(image_fields()), true),
        Field::new("image_ocr", list_of(DataType::Utf8, false), false),
    ])
}

fn caption_fields() -> Fields {
    Fields::from(vec![
        Field::new("caption", DataType::Utf8, false),
        Field::new(
            "cil_pairs",
            list_of(DataType::Struct(pair_fields()), false),
            false,
        ),
    ])
}

fn meta_fields() -> Fields {
    Fields::from(vec![
        Field::new("meta_from_kaggle", DataType::Utf8, true),
        Field::new("meta_from_s2", DataType::Utf8, true),
    ])
}

/// The Arrow schema of written files.
pub fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("arxiv_id", DataType::Utf8, false),
        Field::new("title", DataType::Utf8, false),
        Field::new("abstract", DataType::Utf8, false),
        Field::new("meta", DataType::Struct(meta_fields()), false),
        Field::new(
            "caption_images",
            list_of(DataType::Struct(caption_fields()), false),
            false,
        ),
        Field::new("src", DataType::Utf8, true),
    ]))
}

fn offsets(lengths: impl Iterator<Item = usize>) -> arrow_array::builder::OffsetBufferBuilder<i32> {
    let mut builder = OffsetBufferBuilder::new(0);
    for n in lengths {
        builder.push_length(n);
    }
    builder
}

fn list(item: DataType, lengths: impl Iterator<Item = usize>, values: ArrayRef) -> Plain<ArrayRef> {
    let field = Arc::new(Field::new_list_field(item, false));
    ListArray::try_new(field, offsets(lengths).finish(), values, None)
        .map(|a| Arc::new(a) as ArrayRef)
        .map_err(|e| e.to_string())
}

fn strings<'a>(values: impl Iterator<Item = &'a str>) -> ArrayRef {
    // `from_iter_values` needs an iterator with an upper size bound (a flat map has none).
    let values: Vec<&str> = values.collect();
    Arc::new(StringArray::from_iter_values(values))
}

/// One record batch of rows.
fn batch(rows: &[ArxivCapRow]) -> Plain<RecordBatch> {
    let captions: Vec<&CaptionImages> = rows.iter().flat_map(|r| &r.caption_images).collect();
    let pairs: Vec<&CilPair> = captions.iter().flat_map(|c| &c.cil_pairs).collect();
    let bytes: BinaryArray = pairs.iter().map(|p| p.image_bytes.as_deref()).collect();
    let image = StructArray::try_new(
        image_fields(),
        vec![
            Arc::new(bytes),
            strings(pairs.iter().map(|p| p.image_file.as_str())),
        ],
        None,
    )
    .map_err(|e| e.to_string())?;
    let ocr = list(
        DataType::Utf8,
        pairs.iter().map(|p| p.image_ocr.len()),
        strings(
            pairs
                .iter()
                .flat_map(|p| p.image_ocr.iter().map(String::as_str)),
        ),
    )?;
    let pair_struct = StructArray::try_new(
        pair_fields(),
        vec![
            strings(pairs.iter().map(|p| p.sub_caption.as_str())),
            strings(pairs.iter().map(|p| p.image_file.as_str())),
            Arc::new(image),
            ocr,
        ],
        None,
    )
    .map_err(|e| e.to_string())?;
    let cil = list(
        DataType::Struct(pair_fields()),
        captions.iter().map(|c| c.cil_pairs.len()),
        Arc::new(pair_struct),
    )?;
    let caption_struct = StructArray::try_new(
        caption_fields(),
        vec![strings(captions.iter().map(|c| c.caption.as_str())), cil],
        None,
    )
    .map_err(|e| e.to_string())?;
    let caption_images = list(
        DataType::Struct(caption_fields()),
        rows.iter().map(|r| r.caption_images.len()),
        Arc::new(caption_struct),
    )?;
    let json = |v: &Option<serde_json::Value>| v.as_ref().map(|v| v.to_string());
    let kaggle: StringArray = rows
        .iter()
        .map(|r| json(&r.meta.meta_from_kaggle))
        .collect();
    let s2: StringArray = rows.iter().map(|r| json(&r.meta.meta_from_s2)).collect();
    let meta = StructArray::try_new(meta_fields(), vec![Arc::new(kaggle), Arc::new(s2)], None)
        .map_err(|e| e.to_string())?;
    let src: StringArray = rows.iter().map(|r| r.src.as_deref()).collect();
    RecordBatch::try_new(
        schema(),
        vec![
            strings(rows.iter().map(|r| r.arxiv_id.as_str())),
            strings(rows.iter().map(|r| r.title.as_str())),
            strings(rows.iter().map(|r| r.abstract_text.as_str())),
            Arc::new(meta),
            caption_images,
            Arc::new(src),
        ],
    )
    .map_err(|e| e.to_string())
}

fn parquet_error(path: &Path, message: impl std::fmt::Display) -> ArxivCapError {
    ArxivCapError::Parquet {
        path: path.to_owned(),
        message: message.to_string(),
    }
}

/// Writes ArxivCap rows to a Parquet file a batch at a time (Snappy-compressed, as the released
/// files), under a
/// temporary name renamed into place by [`ParquetRows::finish`].
pub struct ParquetRows {
    writer: ArrowWriter<File>,
    tmp: PathBuf,
    path: PathBuf,
    rows: usize,
}

impl ParquetRows {
    /// Starts `path` (its folder is created).
    pub fn create(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| ArxivCapError::read(dir, e))?;
        }
        let tmp = path.with_extension("parquet.tmp");
        let file = File::create(&tmp).map_err(|e| ArxivCapError::read(&tmp, e))?;
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .build();
        let writer = ArrowWriter::try_new(file, schema(), Some(props))
            .map_err(|e| parquet_error(path, e))?;
        Ok(Self {
            writer,
            tmp,
            path: path.to_owned(),
            rows: 0,
        })
    }

    /// Appends rows.
    pub fn write(&mut self, rows: &[ArxivCapRow]) -> Result<()> {
        let batch = batch(rows).map_err(|e| parquet_error(&self.path, e))?;
        self.writer
            .write(&batch)
            .map_err(|e| parquet_error(&self.path, e))?;
        self.rows += rows.len();
        Ok(())
    }

    /// Closes the file and moves it into place; returns the number of rows.
    pub fn finish(self) -> Result<usize> {
        self.writer
            .close()
            .map_err(|e| parquet_error(&self.path, e))?;
        std::fs::rename(&self.tmp, &self.path).map_err(|e| ArxivCapError::read(&self.path, e))?;
        Ok(self.rows)
    }
}

/// Writes rows to a Parquet file.
pub fn write_parquet(path: &Path, rows: &[ArxivCapRow]) -> Result<()> {
    let mut out = ParquetRows::create(path)?;
    out.write(rows)?;
    out.finish().map(|_| ())
}

/// Reads ArxivCap rows from a Parquet file (ours or the released one); errors name the file,
/// the row and the column.
pub fn read_parquet(path: &Path) -> Result<Vec<ArxivCapRow>> {
    let file = File::open(path).map_err(|e| ArxivCapError::read(path, e))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|b| b.build())
        .map_err(|e| parquet_error(path, e))?;
    let mut rows = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|e| parquet_error(path, e))?;
        let first = rows.len();
        read_batch(&batch, &mut rows)
            .map_err(|(i, e)| parquet_error(path, format!("row {}: {e}", first + i + 1)))?;
    }
    Ok(rows)
}

type Located<T> = std::result::Result<T, (usize, String)>;

fn read_batch(batch: &RecordBatch, rows: &mut Vec<ArxivCapRow>) -> Located<()> {
    let column = |name: &str| batch.column_by_name(name).cloned();
    let ids = column("arxiv_id").ok_or((0, "no column `arxiv_id`".to_string()))?;
    let captions = column("caption_images").ok_or((0, "no column `caption_images`".to_string()))?;
    let captions = captions
        .as_list_opt::<i32>()
        .ok_or((0, "`caption_images` is not a list".to_string()))?;
    for i in 0..batch.num_rows() {
        let text = |name: &str| -> Located<Option<String>> {
            column(name).map_or(Ok(None), |a| {
                string_at(&a, i).map_err(|e| (i, format!("`{name}`: {e}")))
            })
        };
        let meta = batch
            .column_by_name("meta")
            .and_then(|m| m.as_struct_opt())
            .filter(|m| m.is_valid(i))
            .map(|m| read_meta(m, i))
            .unwrap_or_default();
        rows.push(ArxivCapRow {
            arxiv_id: string_at(&ids, i)
                .map_err(|e| (i, format!("`arxiv_id`: {e}")))?
                .unwrap_or_default(),
            title: text("title")?.unwrap_or_default(),
            abstract_text: text("abstract")?.unwrap_or_default(),
            meta,
            caption_images: read_captions(&captions.value(i)).map_err(|e| (i, e))?,
            src: text("src")?,
        });
    }
    Ok(())
}

fn read_meta(meta: &StructArray, i: usize) -> Meta {
    let field = |name: &str| {
        let column = meta.column_by_name(name)?;
        match string_at(column, i) {
            // Our files: the JSON text of the object.
            Ok(text) => serde_json::from_str(&text?).ok(),
            // The released files: nested structs.
            Err(_) => Some(json_at(column, i)).filter(|v| !v.is_null()),
        }
    };
    Meta {
        meta_from_kaggle: field("meta_from_kaggle"),
        meta_from_s2: field("meta_from_s2"),
    }
}

/// Entry `i` of an Arrow array as JSON: structs, lists, strings, booleans and numbers (other
/// types, and nulls, become `null`).
fn json_at(array: &ArrayRef, i: usize) -> serde_json::Value {
    use arrow_array::types::{
        Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type,
        UInt32Type, UInt64Type,
    };
    use serde_json::Value;
    macro_rules! numbers {
        ($($t:ty),*) => {
            $(if let Some(a) = array.as_primitive_opt::<$t>() {
                return serde_json::json!(a.value(i));
            })*
        };
    }
    if array.is_null(i) {
        return Value::Null;
    }
    if let Ok(Some(s)) = string_at(array, i) {
        return Value::String(s);
    }
    if let Some(b) = array.as_boolean_opt() {
        return Value::Bool(b.value(i));
    }
    numbers!(
        Int8Type,
        Int16Type,
        Int32Type,
        Int64Type,
        UInt8Type,
        UInt16Type,
        UInt32Type,
        UInt64Type,
        Float32Type,
        Float64Type
    );
    if let Some(list) = array.as_list_opt::<i32>() {
        let items = list.value(i);
        return Value::Array((0..items.len()).map(|k| json_at(&items, k)).collect());
    }
    if let Some(list) = array.as_list_opt::<i64>() {
        let items = list.value(i);
        return Value::Array((0..items.len()).map(|k| json_at(&items, k)).collect());
    }
    if let Some(s) = array.as_struct_opt() {
        let object = s
            .fields()
            .iter()
            .zip(s.columns())
            .map(|(f, c)| (f.name().clone(), json_at(c, i)))
            .collect();
        return Value::Object(object);
    }
    Value::Null
}

fn read_captions(array: &ArrayRef) -> Plain<Vec<CaptionImages>> {
    let captions = array
        .as_struct_opt()
        .ok_or("`caption_images` items are not structs")?;
    let text = captions
        .column_by_name("caption")
        .ok_or("no field `caption`")?;
    let pairs = captions
        .column_by_name("cil_pairs")
        .ok_or("no field `cil_pairs`")?;
    let pairs = pairs
        .as_list_opt::<i32>()
        .ok_or("`cil_pairs` is not a list")?;
    (0..captions.len())
        .map(|j| {
            Ok(CaptionImages {
                caption: string_at(text, j)?.unwrap_or_default(),
                cil_pairs: read_pairs(&pairs.value(j))?,
            })
        })
        .collect()
}

fn read_pairs(array: &ArrayRef) -> Plain<Vec<CilPair>> {
    let pairs = array
        .as_struct_opt()
        .ok_or("`cil_pairs` items are not structs")?;
    let field = |name: &str| {
        pairs
            .column_by_name(name)
            .ok_or(format!("no field `{name}`"))
    };
    let (sub, file) = (field("sub_caption")?, field("image_file")?);
    let image = pairs
        .column_by_name("image")
        .and_then(|a| a.as_struct_opt());
    let ocr = pairs
        .column_by_name("image_ocr")
        .and_then(|a| a.as_list_opt::<i32>());
    (0..pairs.len())
        .map(|k| {
            let image_bytes = match image.and_then(|s| s.column_by_name("bytes")) {
                Some(b) => binary_at(b, k)?,
                None => None,
            };
            let image_ocr = match ocr.filter(|o| o.is_valid(k)) {
                Some(o) => {
                    let values = o.value(k);
                    (0..values.len())
                        .filter_map(|t| string_at(&values, t).transpose())
                        .collect::<Plain<_>>()?
                }
                None => Vec::new(),
            };
            Ok(CilPair {
                sub_caption: string_at(sub, k)?.unwrap_or_default(),
                image_file: string_at(file, k)?.unwrap_or_default(),
                image: None,
                image_bytes,
                image_ocr,
            })
        })
        .collect()
}

fn string_at(array: &ArrayRef, i: usize) -> Plain<Option<String>> {
    if array.is_null(i) {
        return Ok(None);
    }
    if let Some(s) = array.as_string_opt::<i32>() {
        return Ok(Some(s.value(i).to_string()));
    }
    if let Some(s) = array.as_string_opt::<i64>() {
        return Ok(Some(s.value(i).to_string()));
    }
    Err(format!("expected strings, found {}", array.data_type()))
}

fn binary_at(array: &ArrayRef, i: usize) -> Plain<Option<Vec<u8>>> {
    if array.is_null(i) {
        return Ok(None);
    }
    if let Some(b) = array.as_binary_opt::<i32>() {
        return Ok(Some(b.value(i).to_vec()));
    }
    if let Some(b) = array.as_binary_opt::<i64>() {
        return Ok(Some(b.value(i).to_vec()));
    }
    Err(format!("expected bytes, found {}", array.data_type()))
}

#[cfg(test)]
mod tests {
    use arrow_array::LargeStringArray;

    use super::*;

    #[test]
    fn released_nested_meta_is_read_as_json() {
        // meta_from_kaggle: {journey: large string}; meta_from_s2: {publicationTypes: [string]}.
        let journey: ArrayRef = Arc::new(LargeStringArray::from(vec![Some("J. Toys 1")]));
        let kaggle_fields = Fields::from(vec![Field::new("journey", DataType::LargeUtf8, true)]);
        let kaggle = StructArray::try_new(kaggle_fields.clone(), vec![journey], None).unwrap();
        let types = list(
            DataType::Utf8,
            [1].into_iter(),
            strings(["JournalArticle"].into_iter()),
        )
        .unwrap();
        let s2_fields = Fields::from(vec![Field::new(
            "publicationTypes",
            types.data_type().clone(),
            true,
        )]);
        let s2 = StructArray::try_new(s2_fields.clone(), vec![types], None).unwrap();
        let meta = StructArray::try_new(
            Fields::from(vec![
                Field::new("meta_from_kaggle", DataType::Struct(kaggle_fields), true),
                Field::new("meta_from_s2", DataType::Struct(s2_fields), true),
            ]),
            vec![Arc::new(kaggle), Arc::new(s2)],
            None,
        )
        .unwrap();
        let meta = read_meta(&meta, 0);
        assert_eq!(
            meta.meta_from_kaggle,
            Some(serde_json::json!({"journey": "J. Toys 1"}))
        );
        assert_eq!(
            meta.meta_from_s2,
            Some(serde_json::json!({"publicationTypes": ["JournalArticle"]}))
        );
        assert!(meta.has_venue());
    }
}
