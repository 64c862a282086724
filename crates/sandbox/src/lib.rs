//! One execution environment: code extraction, runtime launchers, process group, timeouts, log capture.
