//! Pieces shared by pages.

mod frame;
mod json_block;

pub use frame::Frame;
pub use json_block::JsonBlock;
