//! How span attributes are stored: JSON text, zstd-compressed when large.
//!
//! A stored value is one format byte followed by the payload: `0` = JSON text, `1` = a zstd frame
//! of JSON text. SQL reaches the JSON through the `ember_json(value)` function registered on every
//! connection (see [`register_sql_functions`]), e.g. `json_extract(ember_json(attributes), '$.a')`.

use std::ffi::{c_char, c_int, CStr};
use std::ptr::null_mut;

use libsqlite3_sys as ffi;

const RAW: u8 = 0;
const ZSTD: u8 = 1;
/// Smaller JSON is not worth a zstd frame.
const COMPRESS_FROM_BYTES: usize = 256;
/// zstd level 1: most of the ratio of higher levels at a fraction of the CPU.
const LEVEL: i32 = 1;
/// The largest attributes object a stored value may expand to.
const MAX_DECODED_BYTES: u64 = 256 << 20;

thread_local! {
    /// zstd contexts are large to set up; each thread that encodes or decodes keeps one of each.
    static COMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Compressor<'static>>> = const { std::cell::RefCell::new(None) };
    static DECOMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> = const { std::cell::RefCell::new(None) };
}

fn decompress(payload: &[u8], size: usize) -> Option<Vec<u8>> {
    DECOMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = zstd::bulk::Decompressor::new().ok();
        }
        slot.as_mut()?.decompress(payload, size).ok()
    })
}

fn compress(bytes: &[u8]) -> Option<Vec<u8>> {
    COMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = zstd::bulk::Compressor::new(LEVEL).ok();
        }
        slot.as_mut()?.compress(bytes).ok()
    })
}

pub fn encode(json: &str) -> Vec<u8> {
    if json.len() >= COMPRESS_FROM_BYTES {
        if let Some(compressed) = compress(json.as_bytes()) {
            if compressed.len() + 1 < json.len() {
                let mut stored = Vec::with_capacity(compressed.len() + 1);
                stored.push(ZSTD);
                stored.extend_from_slice(&compressed);
                return stored;
            }
        }
    }
    let mut stored = Vec::with_capacity(json.len() + 1);
    stored.push(RAW);
    stored.extend_from_slice(json.as_bytes());
    stored
}

#[derive(Debug, thiserror::Error)]
#[error("stored attributes are unreadable: {0}")]
pub struct CorruptValue(&'static str);

pub fn decode(stored: &[u8]) -> Result<String, CorruptValue> {
    let (format, payload) = stored.split_first().ok_or(CorruptValue("empty value"))?;
    let bytes = match *format {
        RAW => payload.to_vec(),
        ZSTD => {
            let size = zstd::zstd_safe::get_frame_content_size(payload)
                .ok()
                .flatten()
                .filter(|size| *size <= MAX_DECODED_BYTES)
                .ok_or(CorruptValue("bad zstd frame size"))?;
            decompress(payload, size as usize).ok_or(CorruptValue("bad zstd frame"))?
        }
        _ => return Err(CorruptValue("unknown format byte")),
    };
    String::from_utf8(bytes).map_err(|_| CorruptValue("not UTF-8"))
}

/// `ember_json(value)`: the JSON text of a stored attributes value (NULL for NULL).
unsafe extern "C" fn ember_json(context: *mut ffi::sqlite3_context, _argc: c_int, argv: *mut *mut ffi::sqlite3_value) {
    // SAFETY: SQLite passes exactly one argument (the function is registered with nArg = 1),
    // and the blob pointer is valid for sqlite3_value_bytes bytes until the function returns.
    unsafe {
        let value = *argv;
        if ffi::sqlite3_value_type(value) == ffi::SQLITE_NULL {
            ffi::sqlite3_result_null(context);
            return;
        }
        let length = ffi::sqlite3_value_bytes(value).max(0) as usize;
        let pointer = ffi::sqlite3_value_blob(value) as *const u8;
        let stored = if pointer.is_null() || length == 0 { &[][..] } else { std::slice::from_raw_parts(pointer, length) };
        match decode(stored) {
            Ok(json) => ffi::sqlite3_result_text64(
                context,
                json.as_ptr() as *const c_char,
                json.len() as u64,
                ffi::SQLITE_TRANSIENT(),
                ffi::SQLITE_UTF8 as u8,
            ),
            Err(error) => {
                let message = error.to_string();
                ffi::sqlite3_result_error(context, message.as_ptr() as *const c_char, message.len() as c_int);
            }
        }
    }
}

/// Registers ember's SQL functions on a connection.
pub async fn register_sql_functions(connection: &mut sqlx::SqliteConnection) -> Result<(), sqlx::Error> {
    let mut handle = connection.lock_handle().await?;
    let database = handle.as_raw_handle().as_ptr();
    let name: &CStr = c"ember_json";
    // SAFETY: `database` is a live connection held locked for the call; the name is a static C
    // string; the callback matches SQLite's scalar-function signature and keeps no state.
    let code = unsafe {
        ffi::sqlite3_create_function_v2(
            database,
            name.as_ptr(),
            1,
            ffi::SQLITE_UTF8 | ffi::SQLITE_DETERMINISTIC,
            null_mut(),
            Some(ember_json),
            None,
            None,
            None,
        )
    };
    if code != ffi::SQLITE_OK {
        return Err(sqlx::Error::Protocol(format!("cannot register ember_json: sqlite code {code}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_small_and_large_values() {
        let small = r#"{"a":1}"#;
        assert_eq!(encode(small)[0], RAW);
        assert_eq!(decode(&encode(small)).unwrap(), small);
        let large = format!(r#"{{"text":"{}"}}"#, "refund policy ".repeat(100));
        let stored = encode(&large);
        assert_eq!(stored[0], ZSTD);
        assert!(stored.len() < large.len() / 4);
        assert_eq!(decode(&stored).unwrap(), large);
    }

    #[test]
    fn corrupt_values_are_errors_not_panics() {
        assert!(decode(&[]).is_err());
        assert!(decode(&[9, 1, 2]).is_err());
        assert!(decode(&[ZSTD, 1, 2, 3]).is_err());
        assert!(decode(&[RAW, 0xff]).is_err());
    }
}
