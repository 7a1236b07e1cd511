//! The admin pages, as a browser uses them.
