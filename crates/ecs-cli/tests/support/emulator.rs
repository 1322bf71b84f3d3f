//! The emulator behind the CLI tests: started in-process with the test
//! keys, and the binary pointed at it with a clean environment.

use std::process::Command;

use ecs_emulator::{AccessKey, DataSet, Emulator, EmulatorBuilder, EmulatorHandle};

use crate::support::clean_command;

pub(crate) const SECRET: &str = "EmulatorAccessKeySecret";
pub(crate) const STS_SECRET: &str = "StsSecretValue0123";
pub(crate) const STS_TOKEN: &str = "StsTokenValue-abcdef0123456789";

/// An emulator serving `data` (and `generate` generated results) that
/// accepts the test keys, on `rt`.
pub(crate) fn start(
    rt: &tokio::runtime::Runtime,
    data: DataSet,
    generate: Option<u64>,
) -> EmulatorHandle {
    start_with(rt, data, generate, |builder| builder)
}

/// [`start`], with the builder adjusted by `adjust` first (credential
/// services' settings, faults).
pub(crate) fn start_with(
    rt: &tokio::runtime::Runtime,
    data: DataSet,
    generate: Option<u64>,
    adjust: impl FnOnce(EmulatorBuilder) -> EmulatorBuilder,
) -> EmulatorHandle {
    rt.block_on(async {
        let mut builder = Emulator::builder()
            .data(data)
            .access_key(AccessKey::new("EmulatorAccessKeyId", SECRET))
            .access_key(AccessKey::new("StsKeyId", STS_SECRET).with_security_token(STS_TOKEN));
        if let Some(n) = generate {
            builder = builder.generate(n);
        }
        adjust(builder).start().await.unwrap()
    })
}

/// The binary with a clean environment: only what the test gives it.
pub(crate) fn cli(emulator: &EmulatorHandle) -> Command {
    let mut cmd = clean_command();
    cmd.env("ALIBABA_CLOUD_ACCESS_KEY_ID", "EmulatorAccessKeyId")
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
        .args(["--endpoint", &emulator.url(), "--region", "cn-hangzhou"]);
    cmd
}

/// An invocation that runs for `ms` after the emulator starts, on 2 instances,
/// one of which fails when `fail` is set.
pub(crate) fn running_data(ms: u64, fail: bool) -> DataSet {
    let second = if fail { "Failed" } else { "Success" };
    DataSet::from_json(&format!(
        r#"{{"invocations":[{{"invoke_id":"t-wait","command_id":"c-wait","results":[
        {{"instance_id":"i-1","status":"Success","exit_code":0,"output":"done\n","running_for_ms":{ms}}},
        {{"instance_id":"i-2","status":"{second}","exit_code":1,"output":"oops\n","running_for_ms":{ms}}}]}}]}}"#
    ))
    .unwrap()
}
