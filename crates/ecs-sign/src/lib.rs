//! Alibaba Cloud RPC request signatures, V1 (HMAC-SHA1) and V3
//! (ACS3-HMAC-SHA256): signing for clients, verifying for servers.
//!
//! Layer: the bottom of the `ecs-assist` workspace, beside `ecs-model` and
//! independent of it. `ecs-assist` signs with it, `ecs-emulator` verifies
//! with it, and any other Alibaba Cloud RPC API client can use it alone. It
//! is pure and deterministic: it does no IO, never reads the clock or the
//! random source inside the algorithms (time and nonce are arguments), and
//! builds as `#![no_std]` + `alloc` without its default `std` feature.
//!
//! - [`rpc_v1`]: `Signature` query parameter, HMAC-SHA1, key `secret&`.
//! - [`acs3`]: `Authorization: ACS3-HMAC-SHA256 ...` header (the official
//!   SDKs' default).
//! - [`oss_v4`]: `Authorization: OSS4-HMAC-SHA256 ...` for Object Storage
//!   Service, to read the complete outputs delivered to a bucket.
//! - [`Credentials`]: access key id, secret, optional STS token; the secret
//!   and token never reach `Debug`/`Display` and are zeroized on drop.
//! - [`percent_encode`], [`encode_query`], [`parse_query`]: the service's
//!   encoding, and the server's form-style query decoder.
//! - [`SignatureVersion`]: which of the two a request carries.
//! - [`TimeSource`], [`NonceSource`]: where a client takes time and nonces
//!   from (system ones with `std`; fixed, manual and sequence ones in
//!   `test_util` with the `test-util` feature).
//!
//! Both algorithms reproduce every known-answer vector computed by the
//! official SDK (`tests/vectors.rs`) and verify every recorded request of
//! the official SDKs (`tests/captures.rs`).
//!
//! # Example
//! ```
//! use ecs_sign::{Credentials, acs3, rpc_v1};
//! use time::macros::datetime;
//!
//! let creds = Credentials::new("testAccessKeyId", "testAccessKeySecret")?;
//! let time = datetime!(2026-01-02 03:04:05 UTC);
//! let params = [("RegionId", "cn-hangzhou"), ("InvokeId", "t-hz0jdfwd9f1234")];
//!
//! // V3: headers to add to the request.
//! let headers = [("x-acs-action", "DescribeInvocationResults"), ("x-acs-version", "2014-05-26")];
//! let request = acs3::Acs3Request::new("POST", "ecs.cn-hangzhou.aliyuncs.com", "/")
//!     .with_query(&params)
//!     .with_headers(&headers);
//! let add = acs3::sign(&request, &creds, time, "b7c5e4a2d9f0416e8a3c1d2e5f607182",
//!     &acs3::SignedHeaders::Default)?;
//! assert_eq!((add[0].0, add[0].1.as_ref()), ("x-acs-date", "2026-01-02T03:04:05Z"));
//!
//! // V1: the complete signed query.
//! let request = rpc_v1::RpcV1Request::new("POST", "DescribeInvocationResults", "2014-05-26", &params);
//! let query = rpc_v1::sign(&request, &creds, time, "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf")?;
//! let url = format!("https://ecs.cn-hangzhou.aliyuncs.com/?{}", ecs_sign::encode_query(&query));
//! assert!(url.ends_with("&Signature=mfAJpLmkWfb%2FET4OPNteZ5H3kmE%3D"));
//!
//! // Server side: verify and learn who signed.
//! let verified = rpc_v1::verify("POST", &query, |id: &str| {
//!     (id == "testAccessKeyId").then_some("testAccessKeySecret")
//! }).expect("valid signature");
//! assert_eq!(verified.access_key_id(), "testAccessKeyId");
//! # Ok::<(), ecs_sign::SignError>(())
//! ```
//!
//! # Crate features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `std` | yes | [`SystemTimeSource`] (UTC clock) and [`SystemNonceSource`] (32 hex characters from the OS random source). Without it the crate is `#![no_std]` + `alloc`. |
//! | `test-util` | no | `test_util`: `FixedTimeSource`, `ManualTimeSource`, `FixedNonceSource`, `SequenceNonceSource`, for reproducible tests. |

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod acs3;
mod credentials;
mod encoding;
mod error;
pub mod oss_v4;
mod params;
pub mod rpc_v1;
mod source;
#[cfg(any(test, feature = "test-util"))]
pub mod test_util;
mod timestamp;
mod verified;
mod version;

pub use credentials::Credentials;
pub use encoding::{
    encode_query, parse_query, percent_decode, percent_encode, percent_encode_into,
};
pub use error::SignError;
pub use params::ParamList;
pub use source::{NonceSource, TimeSource};
#[cfg(feature = "std")]
pub use source::{SystemNonceSource, SystemTimeSource};
pub use timestamp::{format_timestamp, parse_timestamp};
pub use verified::{Verified, VerifyError};
pub use version::SignatureVersion;
