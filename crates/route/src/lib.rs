//! Segment trie for REST resources and HTTP API route keys, with AWS-exact validation.
