//! The supervisor pages, as a browser uses them.
