//! Lambda control plane and invoke orchestrator.
