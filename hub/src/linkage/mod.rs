//! Identity linkage at the hub: matching a file of people against the national register
//! (`matching`) with its saved models (`models`), person identifiers kept across records (`persons`), the review queue of possible
//! duplicates (`duplicates`) and its clusters by person (`clusters`), the parents a child's link proposes (`parents`), the central import of registers (`import`) and the people it imported with an illegible given name (`illegible`).

pub mod clusters;
pub mod duplicates;
pub mod illegible;
pub mod import;
pub mod matching;
pub mod models;
pub mod parents;
pub mod persons;

#[cfg(test)]
mod tests_concurrent;
