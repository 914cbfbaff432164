//! SQLite functions the filter language compiles to (see `ember_query`'s `sql` module):
//! `ember_icontains(haystack, needle)`, Unicode case-insensitive substring test, and
//! `ember_floor(x)`, as this SQLite build has no math functions. Both are NULL on NULL input.
//! (`ember_json` and `ember_json_icontains`, which read stored attributes, are in `codec`.)

use std::ffi::{c_char, c_int, CStr};

use libsqlite3_sys as ffi;

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

type Function = unsafe extern "C" fn(*mut ffi::sqlite3_context, c_int, *mut *mut ffi::sqlite3_value);

/// Registers the filter functions on a raw connection handle.
///
/// # Safety
/// `database` must be a live connection that no other thread uses during the call.
pub(crate) unsafe fn register(database: *mut ffi::sqlite3) -> Result<(), sqlx::Error> {
    let functions: [(&CStr, c_int, Function); 2] = [(c"ember_icontains", 2, ember_icontains), (c"ember_floor", 1, ember_floor)];
    for (name, arguments, function) in functions {
        // SAFETY: per the caller; static name; no user data to release.
        let code = unsafe {
            ffi::sqlite3_create_function_v2(
                database,
                name.as_ptr() as *const c_char,
                arguments,
                ffi::SQLITE_UTF8 | ffi::SQLITE_DETERMINISTIC,
                std::ptr::null_mut(),
                Some(function),
                None,
                None,
                None,
            )
        };
        if code != ffi::SQLITE_OK {
            return Err(sqlx::Error::Protocol(format!("cannot register {name:?}: sqlite code {code}")));
        }
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
