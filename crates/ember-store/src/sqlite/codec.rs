//! How span attributes are stored: JSON text, zstd-compressed when large, with a dictionary
//! trained on this database's own attributes once enough have been seen.
//!
//! A stored value is one format byte and a payload: `0` = JSON text, `1` = a zstd frame,
//! `2` = a 4-byte little-endian dictionary id and a zstd frame made with that dictionary
//! (table `attribute_dictionaries`). SQL reaches the JSON through `ember_json(value)`, one of the
//! functions `sqlite::functions` registers on every connection.
//!
//! Small JSON documents share most of their bytes with their neighbours (keys, prompts, common
//! words), which a per-value frame cannot exploit; a dictionary lets it, making values smaller
//! and compression faster. A dictionary is written to the database before any value uses it.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, RwLock};

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
/// Larger values are not sampled: a dictionary helps small values, and one huge value would fill
/// the sample budget alone (and make training fail).
const MAX_SAMPLE_VALUE_BYTES: usize = 256 << 10;
/// Training attempts per process before values stay plain zstd for good.
const TRAINING_ATTEMPTS: u32 = 3;

thread_local! {
    /// zstd contexts are large to set up; each thread keeps one of each kind.
    static PLAIN_COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> = const { RefCell::new(None) };
    static DICTIONARY_COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> = const { RefCell::new(None) };
    static PLAIN_DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> = const { RefCell::new(None) };
    static DICTIONARY_DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> = const { RefCell::new(None) };
}

#[derive(Debug, thiserror::Error)]
#[error("stored attributes are unreadable: {0}")]
pub struct CorruptValue(pub(crate) &'static str);

/// What reads see in place of a stored value that cannot be decoded (damaged, or written before
/// ingest refused values too large to read back): an object naming the problem, so one bad value
/// never fails a page, a filter or the delete of its span.
pub(crate) fn or_unreadable(decoded: Result<String, CorruptValue>) -> String {
    decoded.unwrap_or_else(|error| {
        tracing::warn!(%error, "a stored attributes value is unreadable; reads see a placeholder");
        let reason = serde_json::Value::String(error.to_string());
        format!(r#"{{"ember":{{"unreadable_attributes":{reason}}}}}"#)
    })
}

struct Dictionary {
    id: u32,
    encoder: &'static EncoderDictionary<'static>,
}

#[derive(Default)]
struct Training {
    samples: Vec<Vec<u8>>,
    bytes: usize,
    started: bool,
    attempts: u32,
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

    /// Stores JSON text (as bytes, which serde_json writes as UTF-8).
    pub fn encode(self: &Arc<Self>, json: &[u8]) -> Vec<u8> {
        let bytes = json;
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
        if self.samples_wanted == 0 || self.writer.get().is_none() || bytes.len() > MAX_SAMPLE_VALUE_BYTES {
            return;
        }
        let samples = {
            let mut training = self.training.lock().unwrap_or_else(|e| e.into_inner());
            if training.started || training.attempts >= TRAINING_ATTEMPTS {
                return;
            }
            if training.samples.len() < self.samples_wanted && training.bytes < MAX_SAMPLE_BYTES {
                training.bytes += bytes.len();
                training.samples.push(bytes.to_vec());
                return;
            }
            training.started = true;
            training.attempts += 1;
            training.bytes = 0;
            std::mem::take(&mut training.samples)
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        let codec = Arc::clone(self);
        runtime.spawn(async move {
            let trained = tokio::task::spawn_blocking(move || zstd::dict::from_samples(&samples, DICTIONARY_BYTES)).await;
            let dictionary = match trained {
                Ok(Ok(dictionary)) => dictionary,
                Ok(Err(error)) => return codec.training_failed(&error.to_string()),
                Err(error) => return codec.training_failed(&error.to_string()),
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

    /// Lets a later set of samples try again (up to [`TRAINING_ATTEMPTS`]).
    fn training_failed(&self, error: &str) {
        let mut training = self.training.lock().unwrap_or_else(|e| e.into_inner());
        training.started = false;
        tracing::warn!(
            error,
            attempts = training.attempts,
            "attribute dictionary training failed; values stay plain zstd until it succeeds"
        );
    }

    /// Whether new values are compressed with a dictionary.
    #[cfg(feature = "testsuite")]
    pub fn has_dictionary(&self) -> bool {
        self.current.read().unwrap_or_else(|e| e.into_inner()).is_some()
    }
}

/// JSON text as an uncompressed stored value.
pub(crate) fn plain(json: &str) -> Vec<u8> {
    tagged(RAW, &[], json.as_bytes())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_small_and_large_values() {
        let codec = Codec::new(0);
        let small = r#"{"a":1}"#;
        assert_eq!(codec.encode(small.as_bytes())[0], RAW);
        assert_eq!(codec.decode(&codec.encode(small.as_bytes())).unwrap(), small);
        let large = format!(r#"{{"text":"{}"}}"#, "refund policy ".repeat(100));
        let stored = codec.encode(large.as_bytes());
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
        let stored = codec.encode(value.as_bytes());
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
