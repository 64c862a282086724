//! Lambda Runtime API server: one loopback listener per execution environment.
