//! Request body decompression with a cap on the decompressed size, so a small compressed body
//! cannot expand without bound.

use std::io::Read;

use axum::http::HeaderMap;
use bytes::Bytes;
use ember_core::{ClassifiedError, ErrorCode};
use flate2::read::{DeflateDecoder, GzDecoder, ZlibDecoder};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentEncoding {
    Identity,
    Gzip,
    Deflate,
}

#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("unsupported Content-Encoding {0:?}; use gzip, deflate or none")]
    UnsupportedEncoding(String),
    #[error("request body exceeds the limit of {0} bytes after decompression")]
    TooLarge(usize),
    #[error("request body is not valid {0} data")]
    Corrupt(&'static str),
    /// The bodies of requests in flight use the whole budget (see `body_budget`).
    #[error("ember is receiving more request data at once than its budget of {0} bytes; retry shortly")]
    Busy(usize),
}

impl ClassifiedError for BodyError {
    fn error_code(&self) -> ErrorCode {
        match self {
            BodyError::UnsupportedEncoding(_) => ErrorCode::UnsupportedMediaType,
            BodyError::TooLarge(_) => ErrorCode::PayloadTooLarge,
            BodyError::Corrupt(_) => ErrorCode::BadRequest,
            BodyError::Busy(_) => ErrorCode::Unavailable,
        }
    }
}

pub fn content_encoding(headers: &HeaderMap) -> Result<ContentEncoding, BodyError> {
    let Some(value) = headers.get(axum::http::header::CONTENT_ENCODING) else {
        return Ok(ContentEncoding::Identity);
    };
    let value = value.to_str().unwrap_or_default().trim().to_ascii_lowercase();
    match value.as_str() {
        "" | "identity" | "none" => Ok(ContentEncoding::Identity),
        "gzip" | "x-gzip" => Ok(ContentEncoding::Gzip),
        "deflate" => Ok(ContentEncoding::Deflate),
        other => Err(BodyError::UnsupportedEncoding(other.to_string())),
    }
}

/// Decompresses `body`, failing with [`BodyError::TooLarge`] past `limit` decompressed bytes.
pub fn decompress(body: Bytes, encoding: ContentEncoding, limit: usize) -> Result<Bytes, BodyError> {
    match encoding {
        ContentEncoding::Identity if body.len() > limit => Err(BodyError::TooLarge(limit)),
        ContentEncoding::Identity => Ok(body),
        ContentEncoding::Gzip => read_capped(GzDecoder::new(&body[..]), limit, "gzip"),
        // HTTP "deflate" is zlib-wrapped, but some clients send raw deflate: accept both.
        ContentEncoding::Deflate => match read_capped(ZlibDecoder::new(&body[..]), limit, "deflate") {
            Err(BodyError::Corrupt(_)) => read_capped(DeflateDecoder::new(&body[..]), limit, "deflate"),
            other => other,
        },
    }
}

fn read_capped(decoder: impl Read, limit: usize, what: &'static str) -> Result<Bytes, BodyError> {
    let mut output = Vec::new();
    let read = decoder.take(limit as u64 + 1).read_to_end(&mut output).map_err(|_| BodyError::Corrupt(what))?;
    if read > limit {
        return Err(BodyError::TooLarge(limit));
    }
    Ok(Bytes::from(output))
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::{GzEncoder, ZlibEncoder};
    use flate2::Compression;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Bytes {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
        encoder.write_all(data).unwrap();
        Bytes::from(encoder.finish().unwrap())
    }

    #[test]
    fn caps_the_decompressed_size() {
        let bomb = gzip(&vec![0u8; 1 << 20]);
        assert!(bomb.len() < 10_000);
        assert!(matches!(decompress(bomb.clone(), ContentEncoding::Gzip, 1000), Err(BodyError::TooLarge(1000))));
        assert_eq!(decompress(bomb, ContentEncoding::Gzip, 1 << 20).unwrap().len(), 1 << 20);
    }

    #[test]
    fn accepts_zlib_and_raw_deflate_and_rejects_garbage() {
        let mut zlib = ZlibEncoder::new(Vec::new(), Compression::fast());
        zlib.write_all(b"hello").unwrap();
        assert_eq!(&decompress(Bytes::from(zlib.finish().unwrap()), ContentEncoding::Deflate, 100).unwrap()[..], b"hello");
        let mut raw = flate2::write::DeflateEncoder::new(Vec::new(), Compression::fast());
        raw.write_all(b"hello").unwrap();
        assert_eq!(&decompress(Bytes::from(raw.finish().unwrap()), ContentEncoding::Deflate, 100).unwrap()[..], b"hello");
        assert!(matches!(decompress(Bytes::from_static(b"not gzip"), ContentEncoding::Gzip, 100), Err(BodyError::Corrupt("gzip"))));
    }
}
