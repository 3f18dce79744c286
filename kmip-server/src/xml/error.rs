//! Errors of the XML encoding, with the line and column of the element.

use thiserror::Error;

use super::Placeholder;
use crate::ttlv::{ItemType, Tag};

/// Where in the XML text an element starts (1-based).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    pub line: u32,
    pub column: u32,
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// Why XML text is not a valid KMIP XML encoding.
#[derive(Debug, Error)]
pub enum XmlError {
    #[error("not well-formed XML: {0}")]
    Syntax(#[from] roxmltree::Error),
    #[error("{at}: unknown tag name {name:?}")]
    UnknownTag { name: String, at: Position },
    #[error("{at}: {tag} has unknown type {type_name:?}")]
    UnknownType {
        tag: Tag,
        type_name: String,
        at: Position,
    },
    #[error("{at}: {tag} is a {item_type} without a value attribute")]
    MissingValue {
        tag: Tag,
        item_type: ItemType,
        at: Position,
    },
    #[error("{at}: {tag} is a {item_type}, which cannot have child elements")]
    ChildrenInPrimitive {
        tag: Tag,
        item_type: ItemType,
        at: Position,
    },
    #[error("{at}: {tag} is a Structure, which cannot have a value attribute")]
    ValueOnStructure { tag: Tag, at: Position },
    #[error("{at}: {tag}: {value:?} is not a valid {item_type} ({reason})")]
    BadValue {
        tag: Tag,
        item_type: ItemType,
        /// The offending text; hex of byte strings is not repeated.
        value: String,
        reason: &'static str,
        at: Position,
    },
    #[error("{at}: {tag}: unknown placeholder {text:?}")]
    UnknownPlaceholder {
        tag: Tag,
        text: String,
        at: Position,
    },
    #[error("{at}: nesting deeper than the limit of {max} levels")]
    TooDeep { max: usize, at: Position },
    #[error("{at}: more than the limit of {max} items")]
    TooManyItems { max: usize, at: Position },
    #[error("the document has no root element with messages")]
    NoMessages,
    #[error("{tag}: placeholder {placeholder} was not resolved")]
    Unresolved { tag: Tag, placeholder: Placeholder },
    #[error("{tag}: placeholder {placeholder} could not be resolved: {reason}")]
    Resolve {
        tag: Tag,
        placeholder: Placeholder,
        reason: String,
    },
    #[error("{tag}: placeholder {placeholder} resolved to a {found}, expected a {expected}")]
    ResolvedType {
        tag: Tag,
        placeholder: Placeholder,
        expected: ItemType,
        found: ItemType,
    },
}
