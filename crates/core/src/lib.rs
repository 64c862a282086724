//! Ids, ARNs, accounts and regions, the AWS error type and the traits services use to reach each other.
