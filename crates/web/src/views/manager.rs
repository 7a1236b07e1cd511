//! The manager pages.
