//! Framing: finding where one message ends in a byte stream.
//!
//! A KMIP message is a single Structure, so its first 8 bytes (tag, type,
//! length) give its total size. The declared size is checked against
//! [`Limits::max_message_size`] before any buffer is allocated for it: a
//! peer announcing 4 GiB is refused from the header alone.

use thiserror::Error;
use tokio::io::{AsyncRead, AsyncReadExt};
use zeroize::Zeroizing;

use super::{ItemType, Limits, Tag};

/// The size of an item header: tag (3), type (1), length (4).
pub const HEADER_LEN: usize = 8;

/// Why a message could not be framed.
#[derive(Debug, Error)]
pub enum FrameError {
    #[error("message declares {declared} bytes in all, over the limit of {max}")]
    TooLarge { declared: u64, max: usize },
    #[error("message header is not that of a KMIP message: {reason}")]
    BadHeader { reason: &'static str },
    #[error("connection closed after {received} of the {expected} bytes of a message")]
    Truncated { received: u64, expected: u64 },
    #[error("reading a message: {0}")]
    Io(#[from] std::io::Error),
}

/// The total size (header included) a message header declares, once it has
/// been checked: a Structure, a valid tag, a length that is a multiple of 8
/// and within the limit.
fn frame_len(header: &[u8; HEADER_LEN], limits: &Limits) -> Result<usize, FrameError> {
    let [t0, t1, t2, type_byte, l0, l1, l2, l3] = *header;
    if !Tag(u32::from_be_bytes([0, t0, t1, t2])).is_valid() {
        return Err(FrameError::BadHeader {
            reason: "the tag's first byte is neither 0x42 nor 0x54",
        });
    }
    if type_byte != ItemType::Structure.byte() {
        return Err(FrameError::BadHeader {
            reason: "the outermost item is not a Structure",
        });
    }
    let len = u32::from_be_bytes([l0, l1, l2, l3]);
    if len % 8 != 0 {
        return Err(FrameError::BadHeader {
            reason: "a Structure's length is a multiple of 8",
        });
    }
    let total = u64::from(len) + HEADER_LEN as u64;
    usize::try_from(total)
        .ok()
        .filter(|t| *t <= limits.max_message_size)
        .ok_or(FrameError::TooLarge {
            declared: total,
            max: limits.max_message_size,
        })
}

/// For a streaming parser: the length of the complete message at the front
/// of `buf`, `Ok(None)` if more bytes are needed, or an error as soon as
/// the header shows the message is unacceptable.
pub fn split_frame(buf: &[u8], limits: &Limits) -> Result<Option<usize>, FrameError> {
    let Some(header) = buf.first_chunk::<HEADER_LEN>() else {
        return Ok(None);
    };
    let total = frame_len(header, limits)?;
    Ok((buf.len() >= total).then_some(total))
}

/// Reads one whole message from `reader`.
///
/// Returns `Ok(None)` if the stream ends cleanly before the first byte of
/// a message, and [`FrameError::Truncated`] if it ends inside one. Reads
/// nothing past the message. The caller applies timeouts.
pub async fn read_message<R: AsyncRead + Unpin>(
    reader: &mut R,
    limits: &Limits,
) -> Result<Option<Zeroizing<Vec<u8>>>, FrameError> {
    let mut header = [0u8; HEADER_LEN];
    let mut filled = 0;
    while filled < HEADER_LEN {
        let n = reader
            .read(header.get_mut(filled..).unwrap_or_default())
            .await?;
        if n == 0 {
            if filled == 0 {
                return Ok(None);
            }
            return Err(FrameError::Truncated {
                received: filled as u64,
                expected: HEADER_LEN as u64,
            });
        }
        filled += n;
    }
    let total = frame_len(&header, limits)?;
    // Within the limit checked above, so this allocation is bounded.
    let mut message = Zeroizing::new(vec![0u8; total]);
    let (head, body) = message.split_at_mut(HEADER_LEN.min(total));
    head.copy_from_slice(&header);
    let mut received = 0;
    while received < body.len() {
        let n = reader
            .read(body.get_mut(received..).unwrap_or_default())
            .await?;
        if n == 0 {
            return Err(FrameError::Truncated {
                received: (HEADER_LEN + received) as u64,
                expected: total as u64,
            });
        }
        received += n;
    }
    Ok(Some(message))
}
