//! Pieces shared by pages.

mod copy_button;
mod frame;
mod insights_table;
mod json_block;

pub use copy_button::CopyButton;
pub use frame::Frame;
pub use insights_table::{InsightsTable, StateBadge};
pub use json_block::JsonBlock;
