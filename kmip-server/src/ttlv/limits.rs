//! Bounds applied to every message before and while it is decoded.

/// How much a peer may make the decoder do. Every check happens before the
/// work or memory it bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest whole message, header included, in bytes. The framing layer
    /// refuses a larger declared length before allocating anything.
    pub max_message_size: usize,
    /// Deepest nesting of structures; the outermost item is at depth 1.
    pub max_depth: usize,
    /// Most items (structures and primitives) in one message.
    pub max_items: usize,
}

impl Limits {
    /// 1 MiB messages, 16 levels, 65,536 items: far above what any KMIP
    /// 1.x operation needs (the OASIS test vectors nest at most 9 deep), and
    /// small enough that a hostile message costs a few megabytes at most.
    pub const DEFAULT: Limits = Limits {
        max_message_size: 1 << 20,
        max_depth: 16,
        max_items: 1 << 16,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}
