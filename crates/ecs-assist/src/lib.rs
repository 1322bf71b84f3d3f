//! The high-level client for ECS Cloud Assistant `DescribeInvocationResults`.
//!
//! Layer: facade over `ecs-model`, `ecs-sign` and `ecs-transport`.
