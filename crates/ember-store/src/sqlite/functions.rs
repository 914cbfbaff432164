//! The SQL functions ember registers on every SQLite connection, under the names
//! `ember_query::schema::functions` gives the SQL that calls them:
//! - `ember_json(value [, patch])`, `ember_json_icontains(value, needle [, patch])`,
//!   `ember_metadata(value)` and `ember_attributes(value, patch)` read stored attributes (see
//!   `codec`) with a span's metadata patch merged in;
//! - `ember_icontains(haystack, needle)`, a Unicode case-insensitive substring test, and
//!   `ember_floor(x)` and `ember_ln(x)`, as this SQLite build has no math functions.
//!
//! All are NULL on NULL input.

use std::cell::RefCell;
use std::ffi::{c_char, c_int, c_void, CString};
use std::sync::Arc;

use ember_query::schema::functions as names;
use libsqlite3_sys as ffi;

use crate::sqlite::codec::{Codec, CorruptValue};

/// The text of an SQLite value, or `None` for NULL.
///
/// # Safety
/// `value` must be a live argument of the function call being evaluated.
pub(crate) unsafe fn text_argument<'a>(value: *mut ffi::sqlite3_value) -> Option<&'a str> {
    // SAFETY: per the caller; sqlite3_value_text returns UTF-8 valid for sqlite3_value_bytes bytes
    // until the call returns.
    unsafe {
        if ffi::sqlite3_value_type(value) == ffi::SQLITE_NULL {
            return None;
        }
        let pointer = ffi::sqlite3_value_text(value);
        let length = ffi::sqlite3_value_bytes(value).max(0) as usize;
        if pointer.is_null() {
            return Some("");
        }
        Some(std::str::from_utf8(std::slice::from_raw_parts(pointer, length)).unwrap_or(""))
    }
}

thread_local! {
    /// Reused for the lowercased haystack, which filters compute for row after row.
    static LOWERCASE_BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Case-insensitive substring test with the reference semantics (`str::to_lowercase`), and a
/// copy-free path for ASCII.
pub(crate) fn contains_ignoring_case(haystack: &str, needle: &str) -> bool {
    if haystack.is_ascii() && needle.is_ascii() {
        let needle = needle.to_ascii_lowercase();
        return LOWERCASE_BUFFER.with(|buffer| {
            let mut buffer = buffer.borrow_mut();
            buffer.clear();
            buffer.extend(haystack.bytes().map(|byte| byte.to_ascii_lowercase()));
            memchr::memmem::find(&buffer, needle.as_bytes()).is_some()
        });
    }
    haystack.to_lowercase().contains(&needle.to_lowercase())
}

unsafe extern "C" fn ember_icontains(context: *mut ffi::sqlite3_context, _argc: c_int, argv: *mut *mut ffi::sqlite3_value) {
    // SAFETY: registered with two arguments; both values live for this call.
    unsafe {
        match (text_argument(*argv), text_argument(*argv.add(1))) {
            (Some(haystack), Some(needle)) => ffi::sqlite3_result_int(context, i32::from(contains_ignoring_case(haystack, needle))),
            _ => ffi::sqlite3_result_null(context),
        }
    }
}

unsafe extern "C" fn ember_floor(context: *mut ffi::sqlite3_context, _argc: c_int, argv: *mut *mut ffi::sqlite3_value) {
    // SAFETY: registered with one argument, live for this call.
    unsafe {
        let value = *argv;
        if ffi::sqlite3_value_type(value) == ffi::SQLITE_NULL {
            ffi::sqlite3_result_null(context);
        } else {
            ffi::sqlite3_result_double(context, ffi::sqlite3_value_double(value).floor());
        }
    }
}

unsafe extern "C" fn ember_ln(context: *mut ffi::sqlite3_context, _argc: c_int, argv: *mut *mut ffi::sqlite3_value) {
    // SAFETY: registered with one argument, live for this call.
    unsafe {
        let value = *argv;
        let number = ffi::sqlite3_value_double(value);
        // NULL for NULL and where the logarithm is undefined, as PostgreSQL raises there.
        if ffi::sqlite3_value_type(value) == ffi::SQLITE_NULL || number <= 0.0 {
            ffi::sqlite3_result_null(context);
        } else {
            ffi::sqlite3_result_double(context, number.ln());
        }
    }
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
    let json = crate::sqlite::codec::or_unreadable(codec.decode(stored));
    match patch {
        None => Ok(json),
        Some(patch) => {
            let patch = std::str::from_utf8(patch).map_err(|_| CorruptValue("metadata patch is not UTF-8"))?;
            crate::sqlite::metadata_patch::merge(&json, patch).map_err(|_| CorruptValue("metadata patch is not a JSON object"))
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
        let Some(needle) = text_argument(*argv.add(1)) else {
            ffi::sqlite3_result_null(context);
            return;
        };
        let patch = patch_argument(argc, argv, 2);
        match with_decoded(codec, stored, patch, |json| contains_ignoring_case(json, needle)) {
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
        let json = crate::sqlite::codec::or_unreadable(codec.decode(stored));
        let entry = crate::sqlite::metadata_patch::metadata_entry(&json).map_err(|_| CorruptValue("attributes are not a JSON object"));
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
                let merged = crate::sqlite::codec::plain(&json);
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

type Function = unsafe extern "C" fn(*mut ffi::sqlite3_context, c_int, *mut *mut ffi::sqlite3_value);

/// Registers every function on a connection; the attribute readers get the store's codec.
pub(crate) async fn register(connection: &mut sqlx::SqliteConnection, codec: Arc<Codec>) -> Result<(), sqlx::Error> {
    let mut handle = connection.lock_handle().await?;
    let database = handle.as_raw_handle().as_ptr();
    let with_codec: [(&str, c_int, Function); 6] = [
        (names::METADATA, 1, ember_metadata),
        (names::JSON, 1, ember_json),
        (names::JSON, 2, ember_json),
        (names::JSON_ICONTAINS, 2, ember_json_icontains),
        (names::JSON_ICONTAINS, 3, ember_json_icontains),
        (names::ATTRIBUTES, 2, ember_attributes),
    ];
    for (name, arguments, function) in with_codec {
        let user_data = Arc::into_raw(codec.clone()) as *mut c_void;
        // SAFETY: `database` is a live connection held locked for the call; the callback matches
        // SQLite's signature; SQLite calls `release_codec` once when the function is replaced or
        // the connection closes (also when registration fails).
        unsafe { create_function(database, name, arguments, function, user_data, Some(release_codec))? };
    }
    let plain: [(&str, c_int, Function); 3] =
        [(names::ICONTAINS, 2, ember_icontains), (names::FLOOR, 1, ember_floor), (names::LN, 1, ember_ln)];
    for (name, arguments, function) in plain {
        // SAFETY: as above; no user data to release.
        unsafe { create_function(database, name, arguments, function, std::ptr::null_mut(), None)? };
    }
    Ok(())
}

/// # Safety
/// `database` must be a live connection that no other thread uses during the call, and
/// `user_data` what `release` (if any) expects.
unsafe fn create_function(
    database: *mut ffi::sqlite3,
    name: &str,
    arguments: c_int,
    function: Function,
    user_data: *mut c_void,
    release: Option<unsafe extern "C" fn(*mut c_void)>,
) -> Result<(), sqlx::Error> {
    let c_name = CString::new(name).map_err(|_| sqlx::Error::Protocol(format!("function name {name:?} holds a NUL")))?;
    // SAFETY: per the caller; SQLite copies the name.
    let code = unsafe {
        ffi::sqlite3_create_function_v2(
            database,
            c_name.as_ptr() as *const c_char,
            arguments,
            ffi::SQLITE_UTF8 | ffi::SQLITE_DETERMINISTIC,
            user_data,
            Some(function),
            None,
            None,
            release,
        )
    };
    if code != ffi::SQLITE_OK {
        return Err(sqlx::Error::Protocol(format!("cannot register {name}: sqlite code {code}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::contains_ignoring_case;

    #[test]
    fn folds_case_like_to_lowercase() {
        assert!(contains_ignoring_case("Refund requested", "REFUND"));
        assert!(contains_ignoring_case("anything", ""));
        assert!(!contains_ignoring_case("ref und", "refund"));
        assert!(contains_ignoring_case("ÉCOLE", "école"));
        // The Kelvin sign lowercases to an ASCII k.
        assert!(contains_ignoring_case("\u{212A}ey", "key"));
    }
}
