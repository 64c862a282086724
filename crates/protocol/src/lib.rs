//! AWS rest-json server side: operation binding, output and error serialization, SigV4 scope parsing.
