"""Times the official Python SDK (tea, V3 signature) paging every result of
an emulator with MaxResults 50: the peer figure of `cargo xtask bench`.

Usage: python bench_sdk.py ENDPOINT EXPECTED_RESULTS
Prints one JSON object: {"results": N, "seconds": S, "requests": R}.
"""

import json
import sys
import time

from alibabacloud_ecs20140526 import models as ecs_models
from alibabacloud_ecs20140526.client import Client
from alibabacloud_tea_openapi import models as open_api_models


def main():
    endpoint, expected = sys.argv[1], int(sys.argv[2])
    client = Client(
        open_api_models.Config(
            access_key_id="EmulatorAccessKeyId",
            access_key_secret="EmulatorAccessKeySecret",
            endpoint=endpoint,
            protocol="http",
            region_id="cn-hangzhou",
        )
    )
    started = time.perf_counter()
    count, requests, token = 0, 0, None
    while True:
        req = ecs_models.DescribeInvocationResultsRequest(region_id="cn-hangzhou", max_results=50)
        if token:
            req.next_token = token
        body = client.describe_invocation_results(req).body
        requests += 1
        count += len(body.invocation.invocation_results.invocation_result)
        token = body.invocation.next_token
        if not token:
            break
    seconds = time.perf_counter() - started
    if count != expected:
        print(f"read {count} results, expected {expected}", file=sys.stderr)
        sys.exit(1)
    print(json.dumps({"results": count, "seconds": round(seconds, 3), "requests": requests}))


if __name__ == "__main__":
    main()
