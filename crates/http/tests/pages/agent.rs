//! The agent pages, as a browser uses them.
