//! Alibaba Cloud RPC request signatures: V1 (HMAC-SHA1) and V3
//! (ACS3-HMAC-SHA256), signing and verifying.
//!
//! Layer: bottom. Pure and deterministic: time and nonce are arguments.
