//! The auditor pages.
