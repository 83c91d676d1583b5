//! The size bounds every part of civreg agrees on, in one place.
//!
//! A bound is only useful if the layers agree on it: a field the validation accepts must fit in
//! an op, an op the hub accepts must fit in a pull batch, a batch must fit in a gRPC message. The
//! chain of inequalities is checked below at compile time, so changing one number can not
//! silently break the others:
//!
//! field (`MAX_FIELD_CHARS` × 4 bytes) < op (`MAX_OP_BYTES`) ≤ batch (`MAX_BATCH_BYTES`)
//! < message (`MAX_MESSAGE_BYTES`).

/// Longest name (given name, surname, father's name) in characters.
pub const MAX_NAME_CHARS: usize = 100;

/// Longest free-text field (notes, a place written out, a reason) in characters.
pub const MAX_TEXT_CHARS: usize = 2_000;

/// Longest value of any single field, in characters (the largest of the bounds above).
pub const MAX_FIELD_CHARS: usize = MAX_TEXT_CHARS;

/// Largest number of field changes in one op (a birth record has fewer than 60 fields).
pub const MAX_OP_CHANGES: usize = 200;

/// Largest canonical encoding of one op, in bytes. Every field at its limit, in UTF-8 (at most 4
/// bytes a character), fits a few times over; an op above it is refused by the node before it
/// is saved and by the hub on receipt.
pub const MAX_OP_BYTES: usize = 64 * 1024;

/// Largest encoded push or pull batch, in bytes: batches are cut by bytes as well as by count,
/// so that one batch always fits in a gRPC message with room to spare.
pub const MAX_BATCH_BYTES: usize = 1024 * 1024;

/// Largest gRPC message either side accepts.
pub const MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;

/// Largest search query text, in bytes.
pub const MAX_QUERY_BYTES: usize = 1_024;

/// Largest number of words (terms) in one search query.
pub const MAX_QUERY_TERMS: usize = 12;

/// Largest number of results a search returns in one page.
pub const MAX_SEARCH_LIMIT: usize = 100;

/// Largest offset of a search page: deeper paging is refused (narrow the query instead).
pub const MAX_SEARCH_OFFSET: usize = 1_000;

const _: () = assert!(MAX_NAME_CHARS <= MAX_FIELD_CHARS);
const _: () = assert!(MAX_FIELD_CHARS * 4 * 4 < MAX_OP_BYTES);
const _: () = assert!(MAX_OP_BYTES <= MAX_BATCH_BYTES);
const _: () = assert!(MAX_BATCH_BYTES * 2 < MAX_MESSAGE_BYTES);

/// How far ahead of the hub's clock an op may be stamped when it arrives. An op stamped further
/// ahead is refused for now with the retry hint (`civreg-retry-after-ms`): it would otherwise win
/// every tie until that time. A node whose clock is known to be ahead of the hub's by more than
/// `op::MAX_CLOCK_AHEAD_MS` (from its heartbeats) refuses to save before it gets that far.
pub const MAX_OP_CLOCK_AHEAD_MS: u64 = 10 * 60 * 1000;

const _: () = assert!(crate::op::MAX_CLOCK_AHEAD_MS < MAX_OP_CLOCK_AHEAD_MS);
