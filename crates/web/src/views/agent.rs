//! The agent pages.
