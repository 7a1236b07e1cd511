//! The auditor pages, as a browser uses them.
