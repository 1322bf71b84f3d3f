//! The host the `ecs-assist` binary sends to, per region and network, read
//! from its dry run (nothing is sent).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use support::{clean_command, output};

#[allow(dead_code)] // This binary uses only some of the shared helpers.
mod support;

fn dry_run_host(region: &str, endpoint_type: &str) -> String {
    let out = output(
        clean_command()
            .env("ALIBABA_CLOUD_ACCESS_KEY_ID", "AnyKeyId")
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "AnySecret")
            .args(["--region", region, "--endpoint-type", endpoint_type])
            .args(["--dry-run", "results", "--invoke-id", "t-x"]),
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .unwrap_or_else(|| panic!("no host line in {stdout}"))
        .to_owned()
}

#[test]
fn vpc_sends_to_ecs_vpc_in_every_region_mapped_or_not() {
    // cn-hangzhou, cn-wuhan and eu-west-1-oxs have their own public hosts in
    // the SDKs' endpoint map; in a VPC they too answer at ecs-vpc.
    let cases = [
        ("cn-hangzhou", "ecs-cn-hangzhou.aliyuncs.com"),
        ("cn-wuhan", "ecs.aliyuncs.com"),
        ("eu-west-1-oxs", "ecs.cn-shenzhen-cloudstone.aliyuncs.com"),
        ("cn-beijing", "ecs.cn-beijing.aliyuncs.com"),
    ];
    for (region, public) in cases {
        assert_eq!(dry_run_host(region, "public"), public, "{region}");
        assert_eq!(
            dry_run_host(region, "vpc"),
            format!("ecs-vpc.{region}.aliyuncs.com"),
            "{region}"
        );
    }
}
