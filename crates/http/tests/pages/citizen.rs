//! The citizen pages, as a browser uses them.
