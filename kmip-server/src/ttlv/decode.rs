//! The strict decoder. It walks the message with an explicit stack instead
//! of recursion, so nesting costs heap (bounded by `Limits::max_depth`), not
//! call stack, and every read goes through checked slicing.

use zeroize::Zeroizing;

use super::{BigInteger, ItemType, Limits, Tag, Ttlv, TtlvError, Value};

/// Decodes exactly one TTLV item (normally a whole message) from `bytes`.
///
/// Fails, naming the byte offset and tag, on anything the specification
/// does not allow or that exceeds `limits`; never panics.
pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Ttlv, TtlvError> {
    if bytes.len() > limits.max_message_size {
        return Err(TtlvError::MessageTooLarge {
            len: bytes.len(),
            max: limits.max_message_size,
        });
    }
    if bytes.is_empty() {
        return Err(TtlvError::Empty);
    }
    Decoder {
        bytes,
        limits,
        pos: 0,
        items: 0,
        open: Vec::new(),
    }
    .run()
}

/// A structure whose children are still being read.
struct Open {
    tag: Tag,
    end: usize,
    children: Vec<Ttlv>,
}

/// The header of an item: where it starts and what it declares.
struct Header {
    offset: usize,
    tag: Tag,
    type_byte: u8,
    len: u32,
}

struct Decoder<'a> {
    bytes: &'a [u8],
    limits: &'a Limits,
    pos: usize,
    items: usize,
    open: Vec<Open>,
}

impl Decoder<'_> {
    fn run(mut self) -> Result<Ttlv, TtlvError> {
        loop {
            if let Some(done) = self.close_finished() {
                return self.finish(done);
            }
            let header = self.header()?;
            self.count_item(&header)?;
            let item_type =
                ItemType::from_byte(header.type_byte).ok_or(TtlvError::UnknownItemType {
                    offset: header.offset,
                    tag: header.tag,
                    byte: header.type_byte,
                })?;
            let item = if item_type == ItemType::Structure {
                self.open_structure(&header)?
            } else {
                Some(self.primitive(&header, item_type)?)
            };
            if let Some(item) = item {
                if let Some(done) = self.attach(item) {
                    return self.finish(done);
                }
            }
        }
    }

    /// Pops every structure whose declared length has been consumed and
    /// attaches it to its parent; returns the root once it is complete.
    fn close_finished(&mut self) -> Option<Ttlv> {
        while self.open.last().is_some_and(|top| self.pos >= top.end) {
            let top = self.open.pop()?;
            let item = Ttlv::structure(top.tag, top.children);
            if let Some(root) = self.attach(item) {
                return Some(root);
            }
        }
        None
    }

    /// Adds a finished item to the innermost open structure, or returns it
    /// if it is the root.
    fn attach(&mut self, item: Ttlv) -> Option<Ttlv> {
        match self.open.last_mut() {
            Some(parent) => {
                parent.children.push(item);
                None
            }
            None => Some(item),
        }
    }

    fn finish(&self, root: Ttlv) -> Result<Ttlv, TtlvError> {
        match self.bytes.len().checked_sub(self.pos) {
            Some(0) => Ok(root),
            Some(count) => Err(TtlvError::TrailingBytes {
                offset: self.pos,
                count,
            }),
            // pos never passes the end: every advance is checked against it.
            None => Err(TtlvError::TrailingBytes {
                offset: self.pos,
                count: 0,
            }),
        }
    }

    /// The end of the innermost container: the open structure or the input.
    fn container(&self) -> (usize, &'static str) {
        match self.open.last() {
            Some(top) => (top.end, "structure"),
            None => (self.bytes.len(), "message"),
        }
    }

    fn header(&mut self) -> Result<Header, TtlvError> {
        let (end, _) = self.container();
        let offset = self.pos;
        let raw = end
            .checked_sub(offset)
            .filter(|available| *available >= 8)
            .and_then(|_| self.bytes.get(offset..offset + 8))
            .ok_or(TtlvError::TruncatedHeader {
                offset,
                available: end.saturating_sub(offset),
            })?;
        let [t0, t1, t2, type_byte, l0, l1, l2, l3] = raw else {
            return Err(TtlvError::TruncatedHeader {
                offset,
                available: raw.len(),
            });
        };
        let tag = u32::from_be_bytes([0, *t0, *t1, *t2]);
        if !Tag(tag).is_valid() {
            return Err(TtlvError::InvalidTag { offset, tag });
        }
        Ok(Header {
            offset,
            tag: Tag(tag),
            type_byte: *type_byte,
            len: u32::from_be_bytes([*l0, *l1, *l2, *l3]),
        })
    }

    fn count_item(&mut self, header: &Header) -> Result<(), TtlvError> {
        self.items += 1;
        if self.items > self.limits.max_items {
            return Err(TtlvError::TooManyItems {
                offset: header.offset,
                max: self.limits.max_items,
            });
        }
        if self.open.len() + 1 > self.limits.max_depth {
            return Err(TtlvError::TooDeep {
                offset: header.offset,
                tag: header.tag,
                max: self.limits.max_depth,
            });
        }
        Ok(())
    }

    /// Checks that `padded` value bytes fit in the container and returns
    /// the offset just past them.
    fn value_end(&self, header: &Header, padded: u64) -> Result<usize, TtlvError> {
        let (end, container) = self.container();
        let value_start = header.offset.saturating_add(8);
        let available = end.saturating_sub(value_start);
        usize::try_from(padded)
            .ok()
            .filter(|p| *p <= available)
            .map(|p| value_start + p)
            .ok_or(TtlvError::Overrun {
                offset: header.offset,
                tag: header.tag,
                needed: padded,
                available,
                container,
            })
    }

    /// Starts a structure; an empty one is complete at once.
    fn open_structure(&mut self, header: &Header) -> Result<Option<Ttlv>, TtlvError> {
        if header.len % 8 != 0 {
            return Err(bad_length(
                header,
                ItemType::Structure,
                "children are padded, so the length is a multiple of 8",
            ));
        }
        let end = self.value_end(header, u64::from(header.len))?;
        self.pos = header.offset + 8;
        if end == self.pos {
            return Ok(Some(Ttlv::structure(header.tag, Vec::new())));
        }
        self.open.push(Open {
            tag: header.tag,
            end,
            children: Vec::new(),
        });
        Ok(None)
    }

    fn primitive(&mut self, header: &Header, item_type: ItemType) -> Result<Ttlv, TtlvError> {
        check_length(header, item_type)?;
        let len = u64::from(header.len);
        let padded = len.div_ceil(8) * 8;
        let end = self.value_end(header, padded)?;
        let value_start = header.offset + 8;
        let split = value_start + (len as usize); // len <= padded, which fit in usize
        let (Some(raw), Some(padding)) = (
            self.bytes.get(value_start..split),
            self.bytes.get(split..end),
        ) else {
            return Err(TtlvError::TruncatedHeader {
                offset: header.offset,
                available: self.bytes.len().saturating_sub(value_start),
            });
        };
        if padding.iter().any(|b| *b != 0) {
            return Err(TtlvError::NonZeroPadding {
                offset: header.offset,
                tag: header.tag,
            });
        }
        let value = primitive_value(header, item_type, raw)?;
        self.pos = end;
        Ok(Ttlv::new(header.tag, value))
    }
}

fn bad_length(header: &Header, item_type: ItemType, rule: &'static str) -> TtlvError {
    TtlvError::BadLength {
        offset: header.offset,
        tag: header.tag,
        item_type,
        len: header.len,
        rule,
    }
}

fn check_length(header: &Header, item_type: ItemType) -> Result<(), TtlvError> {
    match item_type.fixed_len() {
        Some(4) if header.len != 4 => Err(bad_length(header, item_type, "must be 4")),
        Some(8) if header.len != 8 => Err(bad_length(header, item_type, "must be 8")),
        _ if item_type == ItemType::BigInteger && (header.len == 0 || header.len % 8 != 0) => Err(
            bad_length(header, item_type, "must be a non-zero multiple of 8"),
        ),
        _ => Ok(()),
    }
}

fn primitive_value(header: &Header, item_type: ItemType, raw: &[u8]) -> Result<Value, TtlvError> {
    let four = || -> Result<[u8; 4], TtlvError> {
        raw.try_into()
            .map_err(|_| bad_length(header, item_type, "must be 4"))
    };
    let eight = || -> Result<[u8; 8], TtlvError> {
        raw.try_into()
            .map_err(|_| bad_length(header, item_type, "must be 8"))
    };
    Ok(match item_type {
        ItemType::Integer => Value::Integer(i32::from_be_bytes(four()?)),
        ItemType::Enumeration => Value::Enumeration(u32::from_be_bytes(four()?)),
        ItemType::Interval => Value::Interval(u32::from_be_bytes(four()?)),
        ItemType::LongInteger => Value::LongInteger(i64::from_be_bytes(eight()?)),
        ItemType::DateTime => Value::DateTime(i64::from_be_bytes(eight()?)),
        ItemType::Boolean => match u64::from_be_bytes(eight()?) {
            0 => Value::Boolean(false),
            1 => Value::Boolean(true),
            value => {
                return Err(TtlvError::BadBoolean {
                    offset: header.offset,
                    tag: header.tag,
                    value,
                });
            }
        },
        ItemType::TextString => match std::str::from_utf8(raw) {
            Ok(text) => Value::TextString(text.to_owned()),
            Err(_) => {
                return Err(TtlvError::InvalidUtf8 {
                    offset: header.offset,
                    tag: header.tag,
                });
            }
        },
        ItemType::ByteString => Value::ByteString(Zeroizing::new(raw.to_vec())),
        ItemType::BigInteger => {
            if !BigInteger::is_canonical(raw) {
                return Err(TtlvError::NonCanonicalBigInteger {
                    offset: header.offset,
                    tag: header.tag,
                });
            }
            Value::BigInteger(BigInteger::from_twos_complement(raw))
        }
        // Structures are opened by the caller, never read as primitives.
        ItemType::Structure => Value::Structure(Vec::new()),
    })
}
