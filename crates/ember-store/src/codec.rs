//! How span attributes are stored: JSON text, zstd-compressed when large, with a dictionary
//! trained on this database's own attributes once enough have been seen.
//!
//! A stored value is one format byte and a payload: `0` = JSON text, `1` = a zstd frame,
//! `2` = a 4-byte little-endian dictionary id and a zstd frame made with that dictionary
//! (table `attribute_dictionaries`). SQL reaches the JSON through `ember_json(value)`, registered
//! on every connection (see [`register_sql_functions`]).
//!
//! Small JSON documents share most of their bytes with their neighbours (keys, prompts, common
//! words), which a per-value frame cannot exploit; a dictionary lets it, making values smaller
//! and compression faster. A dictionary is written to the database before any value uses it.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::{c_char, c_int, c_void, CStr};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use libsqlite3_sys as ffi;
use sqlx::SqlitePool;
use zstd::dict::{DecoderDictionary, EncoderDictionary};

const RAW: u8 = 0;
const ZSTD: u8 = 1;
const ZSTD_DICTIONARY: u8 = 2;
/// Smaller JSON is not worth a zstd frame.
const COMPRESS_FROM_BYTES: usize = 256;
/// zstd level 1: most of the ratio of higher levels at a fraction of the CPU.
const LEVEL: i32 = 1;
/// The largest attributes object a stored value may expand to.
const MAX_DECODED_BYTES: u64 = 256 << 20;
const DICTIONARY_BYTES: usize = 110 << 10;
/// Training samples are capped in bytes as well as in count.
const MAX_SAMPLE_BYTES: usize = 16 << 20;

thread_local! {
    /// zstd contexts are large to set up; each thread keeps one of each kind.
    static PLAIN_COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> = const { RefCell::new(None) };
    static DICTIONARY_COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> = const { RefCell::new(None) };
    static PLAIN_DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> = const { RefCell::new(None) };
    static DICTIONARY_DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> = const { RefCell::new(None) };
}

#[derive(Debug, thiserror::Error)]
#[error("stored attributes are unreadable: {0}")]
pub struct CorruptValue(&'static str);

struct Dictionary {
    id: u32,
    encoder: &'static EncoderDictionary<'static>,
}

#[derive(Default)]
struct Training {
    samples: Vec<Vec<u8>>,
    bytes: usize,
    started: bool,
}

/// The attribute codec of one store.
pub struct Codec {
    /// Dictionaries by id for decoding. Leaked on purpose: a database has a handful, needed for
    /// the life of the process, and `'static` lets per-thread zstd contexts reference them.
    decoders: RwLock<HashMap<u32, &'static DecoderDictionary<'static>>>,
    current: RwLock<Option<Dictionary>>,
    training: Mutex<Training>,
    /// Values to collect before training; 0 disables dictionaries.
    samples_wanted: usize,
    writer: OnceLock<SqlitePool>,
}

impl Codec {
    pub fn new(samples_wanted: usize) -> Arc<Codec> {
        Arc::new(Codec {
            decoders: RwLock::new(HashMap::new()),
            current: RwLock::new(None),
            training: Mutex::new(Training::default()),
            samples_wanted,
            writer: OnceLock::new(),
        })
    }

    /// Loads the stored dictionaries (the newest encodes new values) and keeps the writer
    /// for persisting trained ones.
    pub async fn attach(&self, writer: SqlitePool) -> Result<(), sqlx::Error> {
        let rows: Vec<(i64, Vec<u8>)> =
            sqlx::query_as("SELECT id, dictionary FROM attribute_dictionaries ORDER BY id").fetch_all(&writer).await?;
        for (id, bytes) in rows {
            self.install(id as u32, &bytes);
        }
        let _ = self.writer.set(writer);
        Ok(())
    }

    fn install(&self, id: u32, bytes: &[u8]) {
        let decoder: &'static DecoderDictionary<'static> = Box::leak(Box::new(DecoderDictionary::copy(bytes)));
        let encoder: &'static EncoderDictionary<'static> = Box::leak(Box::new(EncoderDictionary::copy(bytes, LEVEL)));
        self.decoders.write().unwrap_or_else(|e| e.into_inner()).insert(id, decoder);
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Some(Dictionary { id, encoder });
    }

    pub fn encode(self: &Arc<Self>, json: &str) -> Vec<u8> {
        let bytes = json.as_bytes();
        if bytes.len() < COMPRESS_FROM_BYTES {
            return tagged(RAW, &[], bytes);
        }
        let current = self.current.read().unwrap_or_else(|e| e.into_inner()).as_ref().map(|d| (d.id, d.encoder));
        if let Some((id, encoder)) = current {
            let frame = DICTIONARY_COMPRESSOR.with(|cell| {
                let mut slot = cell.borrow_mut();
                if slot.is_none() {
                    *slot = zstd::bulk::Compressor::new(LEVEL).ok();
                }
                let compressor = slot.as_mut()?;
                compressor.set_prepared_dictionary(encoder).ok()?;
                compressor.compress(bytes).ok()
            });
            if let Some(frame) = frame.filter(|frame| frame.len() + 5 < bytes.len()) {
                return tagged(ZSTD_DICTIONARY, &id.to_le_bytes(), &frame);
            }
        } else {
            self.offer_sample(bytes);
        }
        let frame = PLAIN_COMPRESSOR.with(|cell| {
            let mut slot = cell.borrow_mut();
            if slot.is_none() {
                *slot = zstd::bulk::Compressor::new(LEVEL).ok();
            }
            slot.as_mut()?.compress(bytes).ok()
        });
        match frame.filter(|frame| frame.len() + 1 < bytes.len()) {
            Some(frame) => tagged(ZSTD, &[], &frame),
            None => tagged(RAW, &[], bytes),
        }
    }

    pub fn decode(&self, stored: &[u8]) -> Result<String, CorruptValue> {
        let (format, payload) = stored.split_first().ok_or(CorruptValue("empty value"))?;
        let bytes = match *format {
            RAW => payload.to_vec(),
            ZSTD => decompress(payload, None)?,
            ZSTD_DICTIONARY => {
                let (id, frame) = payload.split_at_checked(4).ok_or(CorruptValue("truncated dictionary id"))?;
                let id = u32::from_le_bytes(id.try_into().map_err(|_| CorruptValue("truncated dictionary id"))?);
                let dictionary =
                    *self.decoders.read().unwrap_or_else(|e| e.into_inner()).get(&id).ok_or(CorruptValue("unknown dictionary"))?;
                decompress(frame, Some(dictionary))?
            }
            _ => return Err(CorruptValue("unknown format byte")),
        };
        String::from_utf8(bytes).map_err(|_| CorruptValue("not UTF-8"))
    }

    /// Keeps values until there are enough to train on, then trains once, off the caller's thread.
    fn offer_sample(self: &Arc<Self>, bytes: &[u8]) {
        if self.samples_wanted == 0 || self.writer.get().is_none() {
            return;
        }
        let samples = {
            let mut training = self.training.lock().unwrap_or_else(|e| e.into_inner());
            if training.started {
                return;
            }
            if training.samples.len() < self.samples_wanted && training.bytes < MAX_SAMPLE_BYTES {
                training.bytes += bytes.len();
                training.samples.push(bytes.to_vec());
                return;
            }
            training.started = true;
            std::mem::take(&mut training.samples)
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        let codec = Arc::clone(self);
        runtime.spawn(async move {
            let trained = tokio::task::spawn_blocking(move || zstd::dict::from_samples(&samples, DICTIONARY_BYTES)).await;
            let dictionary = match trained {
                Ok(Ok(dictionary)) => dictionary,
                Ok(Err(error)) => return tracing::warn!(%error, "attribute dictionary training failed; values stay plain zstd"),
                Err(error) => return tracing::warn!(%error, "attribute dictionary training task failed"),
            };
            let Some(writer) = codec.writer.get() else { return };
            // Stored before any value uses it, so every stored value can be read back.
            let inserted =
                sqlx::query_scalar::<_, i64>("INSERT INTO attribute_dictionaries (dictionary, created_at) VALUES (?, ?) RETURNING id")
                    .bind(&dictionary)
                    .bind(ember_core::time::now_nanos())
                    .fetch_one(writer)
                    .await;
            match inserted {
                Ok(id) => {
                    codec.install(id as u32, &dictionary);
                    tracing::info!(id, bytes = dictionary.len(), "attribute dictionary trained");
                }
                Err(error) => tracing::warn!(%error, "cannot store the attribute dictionary; values stay plain zstd"),
            }
        });
    }

    /// Whether new values are compressed with a dictionary.
    pub fn has_dictionary(&self) -> bool {
        self.current.read().unwrap_or_else(|e| e.into_inner()).is_some()
    }
}

fn tagged(format: u8, header: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut stored = Vec::with_capacity(1 + header.len() + payload.len());
    stored.push(format);
    stored.extend_from_slice(header);
    stored.extend_from_slice(payload);
    stored
}

fn decompress(frame: &[u8], dictionary: Option<&'static DecoderDictionary<'static>>) -> Result<Vec<u8>, CorruptValue> {
    let size = zstd::zstd_safe::get_frame_content_size(frame)
        .ok()
        .flatten()
        .filter(|size| *size <= MAX_DECODED_BYTES)
        .ok_or(CorruptValue("bad zstd frame size"))?;
    let decompressor = if dictionary.is_some() { &DICTIONARY_DECOMPRESSOR } else { &PLAIN_DECOMPRESSOR };
    decompressor.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = zstd::bulk::Decompressor::new().ok();
        }
        let decompressor = slot.as_mut().ok_or(CorruptValue("no zstd context"))?;
        if let Some(dictionary) = dictionary {
            decompressor.set_prepared_dictionary(dictionary).map_err(|_| CorruptValue("bad dictionary"))?;
        }
        decompressor.decompress(frame, size as usize).map_err(|_| CorruptValue("bad zstd frame"))
    })
}

/// The last value decoded on this thread: a filter reads several paths of the same row, each
/// through `ember_json`, and the row's value is decoded once. Keyed by codec, stored bytes and
/// metadata patch.
struct LastDecoded {
    codec: usize,
    stored: Vec<u8>,
    patch: Option<Vec<u8>>,
    json: String,
}

thread_local! {
    static LAST_DECODED: RefCell<Option<LastDecoded>> = const { RefCell::new(None) };
}

/// Runs `use_json` on the JSON text of a stored value with its metadata patch (JSON text, see
/// `metadata_patch`) merged in, decoding it unless it is the last one.
fn with_decoded<R>(codec: &Codec, stored: &[u8], patch: Option<&[u8]>, use_json: impl FnOnce(&str) -> R) -> Result<R, CorruptValue> {
    let key = codec as *const Codec as usize;
    LAST_DECODED.with(|cell| {
        let mut last = cell.borrow_mut();
        if let Some(hit) = last.as_ref().filter(|last| last.codec == key && last.stored == stored && last.patch.as_deref() == patch) {
            return Ok(use_json(&hit.json));
        }
        let json = decode_patched(codec, stored, patch)?;
        let result = use_json(&json);
        *last = Some(LastDecoded { codec: key, stored: stored.to_vec(), patch: patch.map(<[u8]>::to_vec), json });
        Ok(result)
    })
}

fn decode_patched(codec: &Codec, stored: &[u8], patch: Option<&[u8]>) -> Result<String, CorruptValue> {
    let json = codec.decode(stored)?;
    match patch {
        None => Ok(json),
        Some(patch) => {
            let patch = std::str::from_utf8(patch).map_err(|_| CorruptValue("metadata patch is not UTF-8"))?;
            crate::metadata_patch::merge(&json, patch).map_err(|_| CorruptValue("metadata patch is not a JSON object"))
        }
    }
}

/// The codec of a call to one of the functions below.
///
/// # Safety
/// `context` must be that of a call of a function registered with the `Codec` as user data
/// (alive until `release_codec`).
unsafe fn codec_of<'a>(context: *mut ffi::sqlite3_context) -> &'a Codec {
    // SAFETY: per the caller.
    unsafe { &*(ffi::sqlite3_user_data(context) as *const Codec) }
}

/// The bytes of a text or blob argument (`None` for NULL).
///
/// # Safety
/// `value` must be an argument of the running call; the bytes are valid until it returns.
unsafe fn bytes_argument<'a>(value: *mut ffi::sqlite3_value) -> Option<&'a [u8]> {
    // SAFETY: per the caller; the blob pointer is valid for sqlite3_value_bytes bytes.
    unsafe {
        if ffi::sqlite3_value_type(value) == ffi::SQLITE_NULL {
            return None;
        }
        let pointer = ffi::sqlite3_value_blob(value) as *const u8;
        let length = ffi::sqlite3_value_bytes(value).max(0) as usize;
        Some(if pointer.is_null() || length == 0 { &[][..] } else { std::slice::from_raw_parts(pointer, length) })
    }
}

/// The optional metadata patch argument at `index` of a call with `argc` arguments.
///
/// # Safety
/// `argv` must hold `argc` arguments of the running call.
unsafe fn patch_argument<'a>(argc: c_int, argv: *mut *mut ffi::sqlite3_value, index: c_int) -> Option<&'a [u8]> {
    // SAFETY: per the caller, `index < argc` is checked first.
    unsafe { (index < argc).then(|| bytes_argument(*argv.add(index as usize))).flatten() }
}

/// # Safety
/// `context` must be the context of the running call.
unsafe fn result_error(context: *mut ffi::sqlite3_context, error: CorruptValue) {
    let message = error.to_string();
    // SAFETY: per the caller; SQLite copies the message.
    unsafe { ffi::sqlite3_result_error(context, message.as_ptr() as *const c_char, message.len() as c_int) }
}

/// `ember_json(value [, patch])`: the JSON text of a stored attributes value, with the span's
/// metadata patch merged in when given (NULL for NULL).
unsafe extern "C" fn ember_json(context: *mut ffi::sqlite3_context, argc: c_int, argv: *mut *mut ffi::sqlite3_value) {
    // SAFETY: registered with one or two arguments and the codec as user data (see
    // `register_sql_functions`).
    unsafe {
        let codec = codec_of(context);
        let Some(stored) = bytes_argument(*argv) else {
            ffi::sqlite3_result_null(context);
            return;
        };
        let copied = with_decoded(codec, stored, patch_argument(argc, argv, 1), |json| {
            ffi::sqlite3_result_text64(
                context,
                json.as_ptr() as *const c_char,
                json.len() as u64,
                ffi::SQLITE_TRANSIENT(),
                ffi::SQLITE_UTF8 as u8,
            )
        });
        if let Err(error) = copied {
            result_error(context, error);
        }
    }
}

/// `ember_json_icontains(value, needle [, patch])`: whether the JSON text of a stored attributes
/// value (with its metadata patch) contains `needle`, ignoring case as `ember_icontains` does
/// (NULL for NULL).
unsafe extern "C" fn ember_json_icontains(context: *mut ffi::sqlite3_context, argc: c_int, argv: *mut *mut ffi::sqlite3_value) {
    // SAFETY: registered with two or three arguments and the codec as user data.
    unsafe {
        let codec = codec_of(context);
        let Some(stored) = bytes_argument(*argv) else {
            ffi::sqlite3_result_null(context);
            return;
        };
        let Some(needle) = crate::sql_functions::text_argument(*argv.add(1)) else {
            ffi::sqlite3_result_null(context);
            return;
        };
        let patch = patch_argument(argc, argv, 2);
        match with_decoded(codec, stored, patch, |json| crate::sql_functions::contains_ignoring_case(json, needle)) {
            Ok(found) => ffi::sqlite3_result_int(context, i32::from(found)),
            Err(error) => result_error(context, error),
        }
    }
}

/// `ember_metadata(value)`: the `metadata` entry of a stored attributes value as `[]` (none) or
/// `[value]`, JSON text, without parsing the rest (NULL for NULL).
unsafe extern "C" fn ember_metadata(context: *mut ffi::sqlite3_context, _argc: c_int, argv: *mut *mut ffi::sqlite3_value) {
    // SAFETY: registered with one argument and the codec as user data.
    unsafe {
        let codec = codec_of(context);
        let Some(stored) = bytes_argument(*argv) else {
            ffi::sqlite3_result_null(context);
            return;
        };
        let entry = codec
            .decode(stored)
            .and_then(|json| crate::metadata_patch::metadata_entry(&json).map_err(|_| CorruptValue("attributes are not a JSON object")));
        match entry {
            Ok(entry) => ffi::sqlite3_result_text64(
                context,
                entry.as_ptr() as *const c_char,
                entry.len() as u64,
                ffi::SQLITE_TRANSIENT(),
                ffi::SQLITE_UTF8 as u8,
            ),
            Err(error) => result_error(context, error),
        }
    }
}

/// `ember_attributes(value, patch)`: a stored attributes value with the span's metadata patch
/// merged in, itself a stored value (the value unchanged when the patch is NULL), for reading
/// whole spans.
unsafe extern "C" fn ember_attributes(context: *mut ffi::sqlite3_context, _argc: c_int, argv: *mut *mut ffi::sqlite3_value) {
    // SAFETY: registered with two arguments and the codec as user data.
    unsafe {
        let codec = codec_of(context);
        let (Some(stored), Some(patch)) = (bytes_argument(*argv), bytes_argument(*argv.add(1))) else {
            ffi::sqlite3_result_value(context, *argv);
            return;
        };
        match decode_patched(codec, stored, Some(patch)) {
            Ok(json) => {
                let merged = tagged(RAW, &[], json.as_bytes());
                ffi::sqlite3_result_blob64(context, merged.as_ptr() as *const c_void, merged.len() as u64, ffi::SQLITE_TRANSIENT());
            }
            Err(error) => result_error(context, error),
        }
    }
}

unsafe extern "C" fn release_codec(codec: *mut c_void) {
    // SAFETY: the pointer came from `Arc::into_raw` in `register_sql_functions`, released once.
    unsafe { drop(Arc::from_raw(codec as *const Codec)) }
}

/// Registers ember's SQL functions on a connection.
pub async fn register_sql_functions(connection: &mut sqlx::SqliteConnection, codec: Arc<Codec>) -> Result<(), sqlx::Error> {
    let mut handle = connection.lock_handle().await?;
    let database = handle.as_raw_handle().as_ptr();
    type Function = unsafe extern "C" fn(*mut ffi::sqlite3_context, c_int, *mut *mut ffi::sqlite3_value);
    let functions: [(&CStr, c_int, Function); 6] = [
        (c"ember_metadata", 1, ember_metadata),
        (c"ember_json", 1, ember_json),
        (c"ember_json", 2, ember_json),
        (c"ember_json_icontains", 2, ember_json_icontains),
        (c"ember_json_icontains", 3, ember_json_icontains),
        (c"ember_attributes", 2, ember_attributes),
    ];
    for (name, arguments, function) in functions {
        let user_data = Arc::into_raw(codec.clone()) as *mut c_void;
        // SAFETY: `database` is a live connection held locked for the call; the name is a static C
        // string; the callbacks match SQLite's signatures; SQLite calls `release_codec` once when
        // the function is replaced or the connection closes (also when registration fails).
        let code = unsafe {
            ffi::sqlite3_create_function_v2(
                database,
                name.as_ptr(),
                arguments,
                ffi::SQLITE_UTF8 | ffi::SQLITE_DETERMINISTIC,
                user_data,
                Some(function),
                None,
                None,
                Some(release_codec),
            )
        };
        if code != ffi::SQLITE_OK {
            return Err(sqlx::Error::Protocol(format!("cannot register {name:?}: sqlite code {code}")));
        }
    }
    // SAFETY: as above, the connection is held locked for the call.
    unsafe { crate::sql_functions::register(database) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_small_and_large_values() {
        let codec = Codec::new(0);
        let small = r#"{"a":1}"#;
        assert_eq!(codec.encode(small)[0], RAW);
        assert_eq!(codec.decode(&codec.encode(small)).unwrap(), small);
        let large = format!(r#"{{"text":"{}"}}"#, "refund policy ".repeat(100));
        let stored = codec.encode(&large);
        assert_eq!(stored[0], ZSTD);
        assert!(stored.len() < large.len() / 4);
        assert_eq!(codec.decode(&stored).unwrap(), large);
    }

    #[test]
    fn dictionary_values_round_trip_and_need_their_dictionary() {
        let codec = Codec::new(0);
        let samples: Vec<String> = (0..400)
            .map(|i| format!(r#"{{"llm":{{"model_name":"gpt-4o","prompt":"order {i} refund policy for customer {}"}}}}"#, i * 7))
            .collect();
        let dictionary = zstd::dict::from_samples(&samples, 4096).unwrap();
        codec.install(7, &dictionary);
        let value = format!(r#"{{"llm":{{"model_name":"gpt-4o","prompt":"{}"}}}}"#, "order 12 refund policy for customer 84 ".repeat(8));
        let stored = codec.encode(&value);
        assert_eq!(stored[0], ZSTD_DICTIONARY);
        assert_eq!(&stored[1..5], &7u32.to_le_bytes());
        assert_eq!(codec.decode(&stored).unwrap(), value);
        assert!(Codec::new(0).decode(&stored).is_err(), "a codec without the dictionary refuses, it does not guess");
    }

    #[test]
    fn corrupt_values_are_errors_not_panics() {
        let codec = Codec::new(0);
        assert!(codec.decode(&[]).is_err());
        assert!(codec.decode(&[9, 1, 2]).is_err());
        assert!(codec.decode(&[ZSTD, 1, 2, 3]).is_err());
        assert!(codec.decode(&[RAW, 0xff]).is_err());
        assert!(codec.decode(&[ZSTD_DICTIONARY, 1]).is_err());
    }
}
