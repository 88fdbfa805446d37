//! The terminal: the printer and (for pull and push) progress bars. Only commands use it.

pub mod printer;

pub use printer::Printer;
