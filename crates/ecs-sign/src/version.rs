//! [`SignatureVersion`]: the two signatures this crate signs and verifies.

/// Which signature a request carries: what a client signs with, and what a
/// server found on a request it verified.
///
/// Exhaustive on purpose: a new signature needs new code here, and every
/// signer and verifier should have to say how it handles it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SignatureVersion {
    /// ACS3-HMAC-SHA256 in the `Authorization` header (signed by the `acs3`
    /// module of `ecs-sign`); the official SDKs' default.
    #[default]
    V3,
    /// RPC signature V1: HMAC-SHA1 in the `Signature` query parameter
    /// (signed by the `rpc_v1` module of `ecs-sign`; older SDKs).
    V1,
}
