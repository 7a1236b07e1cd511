//! The citizen pages.
