//! A check of an Arrow IPC stream's framing before Arrow's reader sees it. The reader allocates
//! a message's metadata and body at the lengths the message's header claims, before reading
//! them: a forged header claiming petabytes makes the allocation fail, which aborts the process.
//! Every reader of uploaded Arrow streams calls [`check`] first; it walks the messages (skipping
//! their bodies) and refuses one that claims more bytes than the input has left.

use std::io::{ErrorKind, Read, Seek, SeekFrom};

/// What [`check`] refuses, for the caller's message.
pub const CORRUPT: &str = "the body is not an Arrow IPC stream, or it is cut short or corrupt";

/// Checks the framing of the stream from the input's position to its end, then goes back to
/// that position. An I/O error counts as a corrupt stream.
pub fn check<R: Read + Seek>(input: &mut R) -> Result<(), &'static str> {
    walk(input).map_err(|_| CORRUPT)?.then_some(()).ok_or(CORRUPT)
}

/// `Ok(false)` for a message longer than what is left, or metadata that is not a message.
fn walk<R: Read + Seek>(input: &mut R) -> std::io::Result<bool> {
    let start = input.stream_position()?;
    let end = input.seek(SeekFrom::End(0))?;
    input.seek(SeekFrom::Start(start))?;
    let mut position = start;
    while let Some(mut length) = read_i32(input)? {
        position += 4;
        // Since Arrow 0.15 a message starts with 0xFFFFFFFF, then its metadata's length.
        if length == -1 {
            let Some(after) = read_i32(input)? else { return Ok(false) };
            length = after;
            position += 4;
        }
        if length == 0 {
            break;
        }
        let Ok(length) = u64::try_from(length) else { return Ok(false) };
        if length > end - position {
            return Ok(false);
        }
        let mut metadata = vec![0; length as usize];
        input.read_exact(&mut metadata)?;
        position += length;
        let Ok(message) = arrow_ipc::root_as_message(&metadata) else { return Ok(false) };
        let Ok(body) = u64::try_from(message.bodyLength()) else { return Ok(false) };
        if body > end - position {
            return Ok(false);
        }
        position = input.seek(SeekFrom::Current(body as i64))?;
    }
    input.seek(SeekFrom::Start(start))?;
    Ok(true)
}

/// The next little-endian `i32`, or `None` at the end of the input.
fn read_i32<R: Read>(input: &mut R) -> std::io::Result<Option<i32>> {
    let mut word = [0u8; 4];
    match input.read_exact(&mut word) {
        Ok(()) => Ok(Some(i32::from_le_bytes(word))),
        Err(error) if error.kind() == ErrorKind::UnexpectedEof => Ok(None),
        Err(error) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;
    use std::sync::Arc;

    use arrow_array::{ArrayRef, Int64Array, RecordBatch};

    use super::*;

    fn stream() -> Vec<u8> {
        let batch = RecordBatch::try_from_iter([("n", Arc::new(Int64Array::from(vec![1, 2, 3])) as ArrayRef)]).unwrap();
        let mut bytes = Vec::new();
        let mut writer = arrow_ipc::writer::StreamWriter::try_new(&mut bytes, &batch.schema()).unwrap();
        writer.write(&batch).unwrap();
        writer.finish().unwrap();
        drop(writer);
        bytes
    }

    #[test]
    fn a_message_claiming_more_than_is_left_is_refused_before_arrow_reads_it() {
        let good = stream();
        let mut cursor = Cursor::new(good.clone());
        assert_eq!(check(&mut cursor), Ok(()));
        assert_eq!(cursor.position(), 0, "the input is read from where it was");
        // The batch message's body length, forged: its metadata follows the schema message.
        let schema_length = i32::from_le_bytes(good[4..8].try_into().unwrap()) as usize;
        let batch_start = 8 + schema_length;
        let metadata_length = i32::from_le_bytes(good[batch_start + 4..batch_start + 8].try_into().unwrap()) as usize;
        let metadata = &good[batch_start + 8..batch_start + 8 + metadata_length];
        let body_length = arrow_ipc::root_as_message(metadata).unwrap().bodyLength();
        let at = metadata.windows(8).position(|window| window == body_length.to_le_bytes()).unwrap();
        let mut forged = good.clone();
        forged[batch_start + 8 + at..batch_start + 16 + at].copy_from_slice(&(1_i64 << 50).to_le_bytes());
        assert_eq!(check(&mut Cursor::new(forged)), Err(CORRUPT));
        // A metadata length past the end, a negative one, and cut short.
        let mut long = good.clone();
        long[4..8].copy_from_slice(&i32::MAX.to_le_bytes());
        assert_eq!(check(&mut Cursor::new(long)), Err(CORRUPT));
        let mut negative = good.clone();
        negative[4..8].copy_from_slice(&(-5_i32).to_le_bytes());
        assert_eq!(check(&mut Cursor::new(negative)), Err(CORRUPT));
        assert_eq!(check(&mut Cursor::new(good[..good.len() - 20].to_vec())), Err(CORRUPT));
        assert_eq!(check(&mut Cursor::new(Vec::new())), Ok(()), "nothing is no message; the reader says what is missing");
    }
}
