//! Filière bench app: the parts that are not the window, so that they are tested on
//! their own.

pub mod journal;
pub mod scanner;
pub mod sync;
