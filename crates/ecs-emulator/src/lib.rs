//! A local emulator of the ECS Cloud Assistant `DescribeInvocationResults` API.
//!
//! Layer: top (uses `ecs-model` and `ecs-sign`); for tests and demos.
