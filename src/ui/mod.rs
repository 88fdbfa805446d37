//! The terminal: the printer and progress bars. Only commands use it.

mod echo;
pub mod meter;
pub mod printer;
pub mod progress;
pub mod promote;
pub mod request_stats;
pub mod summary;
pub mod tally;

pub use printer::Printer;
pub use progress::Progress;
pub use summary::TransferSummary;
pub use tally::Tally;
