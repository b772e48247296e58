//! The pages anyone reaches without an account: a donor offering its old computers,
//! the open data, and the verification of a document Filière issued.

pub mod offers;
pub mod open_data;
pub mod verify;
