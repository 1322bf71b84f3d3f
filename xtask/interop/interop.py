"""Interop check: the official Alibaba Cloud Python SDKs against ecs-emulator.

Run by `cargo xtask interop` inside a virtual environment holding the SDK
versions pinned in requirements.txt. It pages
through every result the emulator holds with the new SDK (V3 and V1
signatures, NextToken paging) and with the old SDK (V1, page numbers), checks
that each reads exactly the results of the data file, and that bad requests
get the service's error codes.

Usage: python interop.py ENDPOINT DATA_FILE ACCESS_KEY_ID ACCESS_KEY_SECRET
"""

import base64
import json
import sys

from alibabacloud_ecs20140526 import models as ecs_models
from alibabacloud_ecs20140526.client import Client as EcsClient
from alibabacloud_tea_openapi import models as open_api_models
from aliyunsdkcore.acs_exception.exceptions import ServerException
from aliyunsdkcore.client import AcsClient
from aliyunsdkecs.request.v20140526.DescribeInvocationResultsRequest import (
    DescribeInvocationResultsRequest as CoreRequest,
)

REGION = "cn-hangzhou"
FAILURES = []


def check(condition, what):
    status = "ok  " if condition else "FAIL"
    print(f"  {status} {what}")
    if not condition:
        FAILURES.append(what)


def expected_results(data_file):
    """(InvokeId, InstanceId) -> output text, latest run of each, in REGION."""
    with open(data_file, encoding="utf-8") as f:
        data = json.load(f)
    expected = {}
    for inv in data["invocations"]:
        if inv.get("region_id", REGION) != REGION:
            continue
        latest = {}
        for res in inv["results"]:
            rep = res.get("repeats", 1)
            if res["instance_id"] not in latest or rep > latest[res["instance_id"]].get("repeats", 1):
                latest[res["instance_id"]] = res
        for instance, res in latest.items():
            if "output" in res:
                out = res["output"].encode("utf-8")
            elif "output_base64" in res:
                out = base64.b64decode(res["output_base64"])
            else:
                out = b""
            expected[(inv["invoke_id"], instance)] = out
    return expected


def tea_client(endpoint, key_id, secret, v1):
    config = open_api_models.Config(
        access_key_id=key_id,
        access_key_secret=secret,
        endpoint=endpoint,
        protocol="http",
        region_id=REGION,
    )
    if v1:
        config.signature_algorithm = "v2"
    return EcsClient(config)


def tea_all(client):
    got = {}
    token = None
    for _ in range(1000):
        req = ecs_models.DescribeInvocationResultsRequest(region_id=REGION, max_results=3)
        if token:
            req.next_token = token
        body = client.describe_invocation_results(req).body
        for r in body.invocation.invocation_results.invocation_result:
            key = (r.invoke_id, r.instance_id)
            if key in got:
                raise AssertionError(f"{key} listed twice")
            got[key] = (r.invocation_status, base64.b64decode(r.output or ""))
        token = body.invocation.next_token
        if not token:
            return got
    raise AssertionError("paging did not end")


def core_all(endpoint, key_id, secret):
    client = AcsClient(key_id, secret, REGION)
    got = {}
    page = 1
    while page < 1000:
        req = CoreRequest()
        req.set_endpoint(endpoint)
        req.set_PageNumber(page)
        req.set_PageSize(3)
        body = json.loads(client.do_action_with_exception(req))
        results = body["Invocation"]["InvocationResults"]["InvocationResult"]
        for r in results:
            key = (r["InvokeId"], r["InstanceId"])
            if key in got:
                raise AssertionError(f"{key} listed twice")
            got[key] = (r["InvocationStatus"], base64.b64decode(r.get("Output") or ""))
        if not results or page * 3 >= body["Invocation"]["TotalCount"]:
            return got
        page += 1
    raise AssertionError("paging did not end")


def same_results(name, got, expected):
    check(set(got) == set(expected), f"{name}: reads the {len(expected)} results the emulator holds")
    for key, (status, output) in got.items():
        if status != "Running" and key in expected:
            check(output == expected[key], f"{name}: output of {key[0]} on {key[1]}")


def error_code(call):
    try:
        call()
    except ServerException as err:
        return err.get_error_code()
    except Exception as err:  # the tea SDK's ClientException / ServerException
        return getattr(err, "code", None) or repr(err)
    return None


def main():
    endpoint, data_file, key_id, secret = sys.argv[1:5]
    expected = expected_results(data_file)
    print(f"interop against http://{endpoint} ({len(expected)} results)")

    for v1 in (False, True):
        name = "tea " + ("V1" if v1 else "V3")
        same_results(name, tea_all(tea_client(endpoint, key_id, secret, v1)), expected)
    same_results("core V1", core_all(endpoint, key_id, secret), expected)

    for v1 in (False, True):
        name = "tea " + ("V1" if v1 else "V3")
        bad_secret = tea_client(endpoint, key_id, secret + "x", v1)
        code = error_code(
            lambda: bad_secret.describe_invocation_results(
                ecs_models.DescribeInvocationResultsRequest(region_id=REGION)
            )
        )
        check(code == "SignatureDoesNotMatch", f"{name}: wrong secret -> SignatureDoesNotMatch (got {code})")
        client = tea_client(endpoint, key_id, secret, v1)
        code = error_code(
            lambda: client.describe_invocation_results(ecs_models.DescribeInvocationResultsRequest())
        )
        check(code == "MissingParameter.RegionId", f"{name}: no RegionId -> MissingParameter.RegionId (got {code})")
        code = error_code(
            lambda: client.describe_invocation_results(
                ecs_models.DescribeInvocationResultsRequest(region_id=REGION, max_results=51)
            )
        )
        check(code == "InvalidParameter.MaxResults", f"{name}: MaxResults=51 -> InvalidParameter.MaxResults (got {code})")
        unknown = tea_client(endpoint, "NoSuchKey", secret, v1)
        code = error_code(
            lambda: unknown.describe_invocation_results(
                ecs_models.DescribeInvocationResultsRequest(region_id=REGION)
            )
        )
        check(code == "InvalidAccessKeyId.NotFound", f"{name}: unknown key -> InvalidAccessKeyId.NotFound (got {code})")

    core = AcsClient(key_id, secret, REGION)
    req = CoreRequest()
    req.set_endpoint(endpoint)
    req.set_PageSize(51)
    code = error_code(lambda: core.do_action_with_exception(req))
    check(code == "InvalidParam.PageSize", f"core V1: PageSize=51 -> InvalidParam.PageSize (got {code})")
    req = CoreRequest()
    req.set_endpoint(endpoint)
    req.set_InvokeRecordStatus("Failed")
    body = json.loads(core.do_action_with_exception(req))
    failed = body["Invocation"]["InvocationResults"]["InvocationResult"]
    check(
        failed and all(r["InvokeRecordStatus"] == "Failed" for r in failed),
        f"core V1: InvokeRecordStatus=Failed filters ({len(failed)} results)",
    )

    if FAILURES:
        print(f"interop: {len(FAILURES)} failed")
        sys.exit(1)
    print("interop: all checks passed")


if __name__ == "__main__":
    main()
