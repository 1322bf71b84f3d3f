//! Pure data for ECS Cloud Assistant `DescribeInvocationResults`: requests,
//! validation, JSON and XML decoding, and sans-IO pagination.
//!
//! Layer: bottom. No IO, no clock, no RNG; never depends on tokio or hyper.
