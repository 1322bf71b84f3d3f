"""Client CPU while paging every result of an emulator (in another process),
for `cargo xtask bench`: the official Python SDK's paging loop measured in
this process, and each given command (ecs-assist's library probe, the CLI in
each output format, the bare floor) measured from outside as a whole
process, by `os.wait4`'s resource usage (user + system CPU).

Usage: python bench_cpu.py SPEC.json
SPEC: {"endpoint": "host:port", "expected": N, "runs": R,
       "commands": [{"name": ..., "argv": [...], "env": {...}}, ...]}
Prints one JSON object:
{"sdk": {"cpu": [s, ...], "pages": P, "results": N},
 "commands": {name: {"cpu": [s, ...], "stdout_bytes": B}, ...}}

R rounds, each running the SDK loop and then every command once; the figures are lists so
the reader can take the least (the run least disturbed by other work).
A command that fails, or an SDK walk that does not return N results, makes
this script fail: a figure is only reported for a complete walk.
"""

import json
import os
import resource
import subprocess
import sys

from alibabacloud_ecs20140526 import models as ecs_models
from alibabacloud_ecs20140526.client import Client
from alibabacloud_tea_openapi import models as open_api_models


def cpu_self():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def sdk_walk(endpoint, expected):
    """The official SDK's paging loop (tea, V3), as bench_sdk.py runs it."""
    client = Client(
        open_api_models.Config(
            access_key_id="EmulatorAccessKeyId",
            access_key_secret="EmulatorAccessKeySecret",
            endpoint=endpoint,
            protocol="http",
            region_id="cn-hangzhou",
        )
    )
    started = cpu_self()
    count, pages, token = 0, 0, None
    while True:
        req = ecs_models.DescribeInvocationResultsRequest(region_id="cn-hangzhou", max_results=50)
        if token:
            req.next_token = token
        body = client.describe_invocation_results(req).body
        pages += 1
        count += len(body.invocation.invocation_results.invocation_result)
        token = body.invocation.next_token
        if not token:
            break
    cpu = cpu_self() - started
    if count != expected:
        raise SystemExit(f"the official SDK read {count} results, expected {expected}")
    return cpu, pages


def run_measured(command):
    """Runs a command to its end, draining its stdout; returns (cpu, bytes)."""
    env = dict(os.environ)
    env.update(command.get("env", {}))
    proc = subprocess.Popen(command["argv"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    out_bytes = 0
    while True:
        chunk = proc.stdout.read(1 << 16)
        if not chunk:
            break
        out_bytes += len(chunk)
    stderr = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(
            f"{command['name']} exited with {proc.returncode}: {stderr.decode(errors='replace')[-2000:]}"
        )
    return usage.ru_utime + usage.ru_stime, out_bytes


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        spec = json.load(f)
    runs = int(spec["runs"])
    report = {"sdk": {"cpu": [], "results": spec["expected"]}, "commands": {}}
    for command in spec["commands"]:
        report["commands"][command["name"]] = {"cpu": []}
    # Round by round, so that other work on the machine weighs on every
    # figure alike.
    for _ in range(runs):
        cpu, pages = sdk_walk(spec["endpoint"], spec["expected"])
        report["sdk"]["cpu"].append(round(cpu, 4))
        report["sdk"]["pages"] = pages
        for command in spec["commands"]:
            cpu, out_bytes = run_measured(command)
            entry = report["commands"][command["name"]]
            entry["cpu"].append(round(cpu, 4))
            entry["stdout_bytes"] = out_bytes
    print(json.dumps(report))


if __name__ == "__main__":
    main()
