//! The Store trait of versioned JSON documents and its SQLite implementation.
