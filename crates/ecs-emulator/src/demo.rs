//! The invocation ids of [`DataSet::demo`](crate::DataSet::demo), named by
//! what each shows (all in region `cn-hangzhou`).

/// 3 instances: 2 `Success`, 1 `Failed` (exit code 1, `df` output); tags
/// `env=prod` and `team=web`, resource group `rg-acfm2abc`.
pub const DISK_CHECK: &str = "t-hz0jdfwd9f1234";

/// 2 instances that run for 3 s and 5 s after the emulator starts, then
/// succeed: what a waiter waits for.
pub const DEPLOYMENT: &str = "t-hz0jdfwe1uy5678";

/// A `Period` invocation: 3 runs (`repeats` 1, 2 and 3) on one instance,
/// all `Success`.
pub const PERIODIC: &str = "t-hz0jdfwg2ab9abc";

/// 1 `Success` whose output is binary (the head of a JPEG), 1 `Failed`
/// (`InstanceNotRunning`, no output).
pub const BINARY_OUTPUT: &str = "t-hz0jdfwj3ef0def";

/// Every invocation of the demo data set, in its order.
pub const INVOKE_IDS: [&str; 4] = [DISK_CHECK, DEPLOYMENT, PERIODIC, BINARY_OUTPUT];
