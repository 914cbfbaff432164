//! Spooling a streamed upload to an anonymous temporary file, decompressing as it arrives, so a
//! file of any size (up to a cap) costs disk rather than memory.

use std::fs::File;
use std::io::{self, Seek, Write};

use bytes::Bytes;
use ember_core::{ClassifiedError, ErrorCode};
use flate2::write::{DeflateDecoder, GzDecoder, ZlibDecoder};
use tokio::sync::mpsc;

use crate::body::{BodyError, ContentEncoding};

/// Chunks in flight between the request and the file writer.
const CHUNKS_IN_FLIGHT: usize = 8;

/// Why a spooled upload failed.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    #[error(transparent)]
    Body(#[from] BodyError),
    /// The temporary file could not be written (logged; the client sees a generic message).
    #[error("cannot write the upload to a temporary file: {0}")]
    Io(io::Error),
}

impl ClassifiedError for SpoolError {
    fn error_code(&self) -> ErrorCode {
        match self {
            SpoolError::Body(error) => error.error_code(),
            SpoolError::Io(_) => ErrorCode::Internal,
        }
    }
}

/// Receives the chunks of one upload and writes them, decompressed, to a temporary file on a
/// blocking thread; [`Spool::finish`] returns the file rewound to its start.
pub struct Spool {
    sender: mpsc::Sender<Bytes>,
    writer: tokio::task::JoinHandle<Result<File, SpoolError>>,
}

impl Spool {
    pub fn start(encoding: ContentEncoding, limit: u64) -> Spool {
        let (sender, receiver) = mpsc::channel(CHUNKS_IN_FLIGHT);
        let writer = tokio::task::spawn_blocking(move || write_chunks(receiver, encoding, limit));
        Spool { sender, writer }
    }

    /// Queues a chunk. A failure means the writer stopped; [`Spool::finish`] says why.
    pub async fn push(&self, chunk: Bytes) -> bool {
        self.sender.send(chunk).await.is_ok()
    }

    pub async fn finish(self) -> Result<File, SpoolError> {
        drop(self.sender);
        self.writer.await.map_err(|_| SpoolError::Io(io::Error::other("the spool writer panicked")))?
    }
}

fn write_chunks(mut receiver: mpsc::Receiver<Bytes>, encoding: ContentEncoding, limit: u64) -> Result<File, SpoolError> {
    let file = tempfile::tempfile().map_err(SpoolError::Io)?;
    let capped = CappedWriter { inner: file, written: 0, limit };
    let mut first = match receiver.blocking_recv() {
        Some(chunk) => chunk,
        None => Bytes::new(),
    };
    let mut sink: Box<dyn DecodingWriter> = match encoding {
        ContentEncoding::Identity => Box::new(capped),
        ContentEncoding::Gzip => Box::new(GzDecoder::new(capped)),
        // HTTP "deflate" is zlib-wrapped, but some clients send raw deflate: the first two bytes tell.
        ContentEncoding::Deflate if is_zlib_header(&first) => Box::new(ZlibDecoder::new(capped)),
        ContentEncoding::Deflate => Box::new(DeflateDecoder::new(capped)),
    };
    let what = match encoding {
        ContentEncoding::Identity => "",
        ContentEncoding::Gzip => "gzip",
        ContentEncoding::Deflate => "deflate",
    };
    loop {
        sink.write_all(&first).map_err(|error| classify(error, limit, what))?;
        match receiver.blocking_recv() {
            Some(chunk) => first = chunk,
            None => break,
        }
    }
    let mut file = sink.finish_file().map_err(|error| classify(error, limit, what))?;
    file.rewind().map_err(SpoolError::Io)?;
    Ok(file)
}

fn is_zlib_header(bytes: &[u8]) -> bool {
    match bytes {
        [cmf, flg, ..] => cmf & 0x0f == 8 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0,
        _ => false,
    }
}

fn classify(error: io::Error, limit: u64, what: &'static str) -> SpoolError {
    if error.get_ref().is_some_and(|inner| inner.is::<TooLarge>()) {
        return SpoolError::Body(BodyError::TooLarge(usize::try_from(limit).unwrap_or(usize::MAX)));
    }
    match error.kind() {
        io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof if !what.is_empty() => {
            SpoolError::Body(BodyError::Corrupt(what))
        }
        _ => SpoolError::Io(error),
    }
}

/// Counts decompressed bytes and refuses those past the limit.
struct CappedWriter {
    inner: File,
    written: u64,
    limit: u64,
}

#[derive(Debug, thiserror::Error)]
#[error("over the upload limit")]
struct TooLarge;

impl Write for CappedWriter {
    fn write(&mut self, buffer: &[u8]) -> io::Result<usize> {
        if self.written + buffer.len() as u64 > self.limit {
            return Err(io::Error::other(TooLarge));
        }
        let written = self.inner.write(buffer)?;
        self.written += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A writer that may hold buffered decompressor state; `finish_file` flushes it and returns the file.
trait DecodingWriter: Write + Send {
    fn finish_file(self: Box<Self>) -> io::Result<File>;
}

impl DecodingWriter for CappedWriter {
    fn finish_file(mut self: Box<Self>) -> io::Result<File> {
        self.flush()?;
        Ok(self.inner)
    }
}

impl DecodingWriter for GzDecoder<CappedWriter> {
    fn finish_file(self: Box<Self>) -> io::Result<File> {
        Box::new(GzDecoder::finish(*self)?).finish_file()
    }
}

impl DecodingWriter for ZlibDecoder<CappedWriter> {
    fn finish_file(self: Box<Self>) -> io::Result<File> {
        Box::new(ZlibDecoder::finish(*self)?).finish_file()
    }
}

impl DecodingWriter for DeflateDecoder<CappedWriter> {
    fn finish_file(self: Box<Self>) -> io::Result<File> {
        Box::new(DeflateDecoder::finish(*self)?).finish_file()
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use flate2::write::{DeflateEncoder, GzEncoder, ZlibEncoder};
    use flate2::Compression;

    use super::*;

    async fn spool(encoding: ContentEncoding, limit: u64, body: Vec<u8>) -> Result<String, SpoolError> {
        let spool = Spool::start(encoding, limit);
        for chunk in body.chunks(7) {
            if !spool.push(Bytes::copy_from_slice(chunk)).await {
                break;
            }
        }
        let mut text = String::new();
        spool.finish().await?.read_to_string(&mut text).unwrap();
        Ok(text)
    }

    fn gzip(text: &str) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
        encoder.write_all(text.as_bytes()).unwrap();
        encoder.finish().unwrap()
    }

    #[tokio::test]
    async fn spools_plain_gzip_zlib_and_raw_deflate_in_chunks() {
        let text = "question,answer\n2+2,4\n".repeat(50);
        assert_eq!(spool(ContentEncoding::Identity, 10_000, text.clone().into_bytes()).await.unwrap(), text);
        assert_eq!(spool(ContentEncoding::Gzip, 10_000, gzip(&text)).await.unwrap(), text);
        let mut zlib = ZlibEncoder::new(Vec::new(), Compression::default());
        zlib.write_all(text.as_bytes()).unwrap();
        assert_eq!(spool(ContentEncoding::Deflate, 10_000, zlib.finish().unwrap()).await.unwrap(), text);
        let mut raw = DeflateEncoder::new(Vec::new(), Compression::default());
        raw.write_all(text.as_bytes()).unwrap();
        assert_eq!(spool(ContentEncoding::Deflate, 10_000, raw.finish().unwrap()).await.unwrap(), text);
    }

    #[tokio::test]
    async fn the_cap_counts_decompressed_bytes_and_corrupt_data_is_named() {
        let small = gzip(&"x".repeat(5_000));
        assert!(small.len() < 100);
        assert!(matches!(spool(ContentEncoding::Gzip, 1_000, small).await, Err(SpoolError::Body(BodyError::TooLarge(1_000)))));
        assert!(matches!(
            spool(ContentEncoding::Identity, 10, b"0123456789ab".to_vec()).await,
            Err(SpoolError::Body(BodyError::TooLarge(10)))
        ));
        assert!(matches!(
            spool(ContentEncoding::Gzip, 1_000, b"not gzip at all".to_vec()).await,
            Err(SpoolError::Body(BodyError::Corrupt("gzip")))
        ));
    }
}
