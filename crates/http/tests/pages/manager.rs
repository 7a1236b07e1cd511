//! The manager pages, as a browser uses them.
