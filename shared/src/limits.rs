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

/// Longest name token of a query that is also matched within typing distance; a longer token
/// (no name is that long) is matched exactly and phonetically only, so that one query can not
/// make the index build and run huge edit-distance automata.
pub const MAX_FUZZY_TERM_CHARS: usize = 30;

/// Longest value a peer names itself or a clerk with (the `clerk` of a search, an operator's
/// name typed into a form) that is written to a log; a longer one is cut, and marked so.
pub const MAX_LOGGED_NAME_CHARS: usize = MAX_NAME_CHARS;

/// Why a search request is refused before it is run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchLimitError {
    #[error("the query is {0} bytes long; at most {max} bytes are searched: shorten it to names, a year, a place or a personal number", max = MAX_QUERY_BYTES)]
    TooLong(usize),
    #[error("the query has {0} words; at most {max} words are searched: leave out some words", max = MAX_QUERY_TERMS)]
    TooManyTerms(usize),
    #[error("a page of {0} results was asked for; at most {max} are given at once", max = MAX_SEARCH_LIMIT)]
    LimitTooLarge(usize),
    #[error("results from position {0} were asked for; at most the first {max} results can be paged through: narrow the query (a year, a place) instead", max = MAX_SEARCH_OFFSET)]
    OffsetTooLarge(usize),
}

/// Checks a search request against the bounds above (the words are counted as the index splits
/// them: on whitespace, hyphens and punctuation). Every layer that runs a search (the hub's gRPC
/// service, its control socket and dashboard, the node's local search) checks before it works.
pub fn check_search(text: &str, offset: usize, limit: usize) -> Result<(), SearchLimitError> {
    if text.len() > MAX_QUERY_BYTES {
        return Err(SearchLimitError::TooLong(text.len()));
    }
    let words = text
        .split(|c: char| c.is_whitespace() || c == '-' || c == ',' || c == ';' || c == '/')
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .count();
    if words > MAX_QUERY_TERMS {
        return Err(SearchLimitError::TooManyTerms(words));
    }
    if limit > MAX_SEARCH_LIMIT {
        return Err(SearchLimitError::LimitTooLarge(limit));
    }
    if offset > MAX_SEARCH_OFFSET {
        return Err(SearchLimitError::OffsetTooLarge(offset));
    }
    Ok(())
}

const _: () = assert!(MAX_NAME_CHARS <= MAX_FIELD_CHARS);
const _: () = assert!(MAX_FIELD_CHARS * 4 * 4 < MAX_OP_BYTES);
const _: () = assert!(MAX_OP_BYTES <= MAX_BATCH_BYTES);
const _: () = assert!(MAX_BATCH_BYTES * 2 < MAX_MESSAGE_BYTES);

/// Un-void requests (issue 17): at most this many open at an office (the node refuses a new one
/// beyond it; the hub reads no more from one heartbeat), each reason at most this many characters.
pub const MAX_UNVOID_REQUESTS: usize = 100;
pub const MAX_UNVOID_REASON_CHARS: usize = 500;
const _: () = assert!(MAX_UNVOID_REASON_CHARS <= MAX_TEXT_CHARS);

/// Clerk accounts (issue 17): at most this many at an office (the node refuses to add one beyond
/// it; the hub refuses a roster holding more), each password hash at most this many bytes. The
/// whole roster (`MAX_CLERKS` × (name + hash)) stays far under a heartbeat message.
pub const MAX_CLERKS: usize = 100;
pub const MAX_PASSWORD_HASH_BYTES: usize = 256;
const _: () = assert!(MAX_CLERKS * (32 + MAX_PASSWORD_HASH_BYTES) * 2 < MAX_BATCH_BYTES);

/// The matching model the hub sends its offices for their duplicate check (issue 16), as JSON:
/// at most this many bytes (the hub keeps the commonest names' frequencies to fit; a node
/// refuses a larger one). It rides in a heartbeat reply, far under a message.
pub const MAX_NODE_MODEL_BYTES: usize = 1024 * 1024;
const _: () = assert!(MAX_NODE_MODEL_BYTES * 2 < MAX_MESSAGE_BYTES);

/// How far ahead of the hub's clock an op may be stamped when it arrives. An op stamped further
/// ahead is refused for now with the retry hint (`civreg-retry-after-ms`): it would otherwise win
/// every tie until that time. A node whose clock is known to be ahead of the hub's by more than
/// `op::MAX_CLOCK_AHEAD_MS` (from its heartbeats) refuses to save before it gets that far.
pub const MAX_OP_CLOCK_AHEAD_MS: u64 = 10 * 60 * 1000;

const _: () = assert!(crate::op::MAX_CLOCK_AHEAD_MS < MAX_OP_CLOCK_AHEAD_MS);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_bounds_refuse_what_is_beyond_them() {
        assert_eq!(check_search("Arben Gashi 1968 Prizren", 0, 20), Ok(()));
        assert_eq!(check_search(&"a".repeat(MAX_QUERY_BYTES), 0, 20), Ok(()));
        assert_eq!(
            check_search(&"a".repeat(MAX_QUERY_BYTES + 1), 0, 20),
            Err(SearchLimitError::TooLong(MAX_QUERY_BYTES + 1))
        );
        let many = vec!["gashi"; MAX_QUERY_TERMS + 1].join(" ");
        assert!(matches!(
            check_search(&many, 0, 20),
            Err(SearchLimitError::TooManyTerms(_))
        ));
        // Words glued by hyphens count one by one, as the index splits them.
        let glued = vec!["gashi"; MAX_QUERY_TERMS + 1].join("-");
        assert!(check_search(&glued, 0, 20).is_err());
        assert!(check_search("gashi", MAX_SEARCH_OFFSET, MAX_SEARCH_LIMIT).is_ok());
        assert_eq!(
            check_search("gashi", u32::MAX as usize, 20),
            Err(SearchLimitError::OffsetTooLarge(u32::MAX as usize))
        );
        assert!(check_search("gashi", 0, MAX_SEARCH_LIMIT + 1).is_err());
    }
}
