"""Interop check: the official OSS Python SDK (alibabacloud-oss-v2) reads
delivered outputs from ecs-emulator.

Run by `cargo xtask interop` against an emulator started with --generate
(one generated invocation in ten delivers its outputs to OSS). The official
ECS SDK lists the results; for every result with an OssOutputUri the OSS
SDK reads the object (signature V4, path-style addressing on the emulator's
address) and checks that it starts with the listed Output and is as long as
the listing says (24 KB plus Dropped); a ranged read gives the same bytes
as a slice; a missing key is NoSuchKey, a wrong secret SignatureDoesNotMatch
and an unknown key id InvalidAccessKeyId; If-Match with the object's ETag
reads it and with another ETag is PreconditionFailed.

With --changed, against an emulator started with `--fault replace:x1:on=oss`
(the object is overwritten after the first OSS answer): the SDK's file
reader (`open_file`, a HeadObject then ranged GetObjects) refuses to mix the
two versions, "Source file is changed", as ecs-assist's full output does
(its `Changed` error).

Usage: python oss_interop.py ENDPOINT ACCESS_KEY_ID ACCESS_KEY_SECRET [--changed]
"""

import sys

import alibabacloud_oss_v2 as oss
from alibabacloud_ecs20140526 import models as ecs_models

from interop import REGION, check, tea_client, FAILURES


def oss_client(endpoint, key_id, secret):
    cfg = oss.config.load_default()
    cfg.credentials_provider = oss.credentials.StaticCredentialsProvider(key_id, secret)
    cfg.region = REGION
    cfg.endpoint = f"http://{endpoint}"
    cfg.use_path_style = True
    cfg.retry_max_attempts = 1
    return oss.Client(cfg)


def delivered(endpoint, key_id, secret):
    """Every listed result with an OssOutputUri: (uri, Output bytes, Dropped)."""
    import base64

    client = tea_client(endpoint, key_id, secret, v1=False)
    found = []
    token = None
    for _ in range(10_000):
        req = ecs_models.DescribeInvocationResultsRequest(region_id=REGION, max_results=50)
        if token:
            req.next_token = token
        body = client.describe_invocation_results(req).body
        for r in body.invocation.invocation_results.invocation_result:
            if r.oss_output_uri:
                found.append((r.oss_output_uri, base64.b64decode(r.output or ""), r.dropped or 0))
        token = body.invocation.next_token
        if not token:
            return found
    raise AssertionError("paging did not end")


def split(uri):
    rest = uri[len("oss://"):]
    bucket, key = rest.split("/", 1)
    return bucket, key


def error_code(call):
    try:
        call()
    except oss.exceptions.OperationError as err:
        inner = err.unwrap()
        return getattr(inner, "code", None) or repr(inner)
    except Exception as err:  # noqa: BLE001 - reported as the check's detail
        return repr(err)
    return None


def changed(endpoint, key_id, secret):
    """The object replaced between the SDK's HeadObject and its reads."""
    results = delivered(endpoint, key_id, secret)
    truncated = [r for r in results if r[2] > 0]
    check(len(truncated) > 0, f"{len(truncated)} delivered outputs were truncated")
    bucket, key = split(truncated[0][0])
    client = oss_client(endpoint, key_id, secret)
    try:
        with client.open_file(bucket, key) as f:
            f.read()
        outcome = "read to the end"
    except Exception as err:  # noqa: BLE001 - reported as the check's detail
        outcome = repr(err)
    check(
        "Source file is changed" in outcome,
        f"open_file of an object replaced after the first answer: {outcome[:160]}",
    )


def main():
    endpoint, key_id, secret = sys.argv[1:4]
    if sys.argv[4:] == ["--changed"]:
        print(f"oss interop (object replaced while read) against http://{endpoint}")
        changed(endpoint, key_id, secret)
        if FAILURES:
            print(f"oss interop: {len(FAILURES)} checks failed")
            sys.exit(1)
        print("oss interop: every check passed")
        return
    print(f"oss interop against http://{endpoint}")
    results = delivered(endpoint, key_id, secret)
    check(len(results) > 0, f"the listing names {len(results)} delivered outputs")
    client = oss_client(endpoint, key_id, secret)
    truncated = [r for r in results if r[2] > 0]
    check(len(truncated) > 0, f"{len(truncated)} of them were truncated")
    for uri, listed, dropped in results[:20] + truncated[:5]:
        bucket, key = split(uri)
        got = client.get_object(oss.GetObjectRequest(bucket=bucket, key=key)).body.read()
        check(got[: len(listed)] == listed, f"GetObject {uri}: starts with the listed Output")
        check(len(got) == len(listed) + dropped, f"GetObject {uri}: {len(got)} bytes = Output + Dropped")
    uri, listed, dropped = truncated[0]
    bucket, key = split(uri)
    whole = client.get_object(oss.GetObjectRequest(bucket=bucket, key=key)).body.read()
    part = client.get_object(
        oss.GetObjectRequest(bucket=bucket, key=key, range_header="bytes=1000-")
    ).body.read()
    check(part == whole[1000:], f"GetObject {uri} with Range bytes=1000-: the rest of the object")
    head = client.head_object(oss.HeadObjectRequest(bucket=bucket, key=key))
    check(head.content_length == len(whole), f"HeadObject {uri}: Content-Length {head.content_length}")
    same = client.get_object(oss.GetObjectRequest(bucket=bucket, key=key, if_match=head.etag)).body.read()
    check(same == whole, f"GetObject {uri} with If-Match its ETag: the object")
    check(
        error_code(
            lambda: client.get_object(
                oss.GetObjectRequest(bucket=bucket, key=key, if_match='"0123456789abcdef0123456789abcdef"')
            )
        )
        == "PreconditionFailed",
        "If-Match with another ETag is PreconditionFailed",
    )
    check(
        error_code(lambda: client.get_object(oss.GetObjectRequest(bucket=bucket, key=key + ".gone")))
        == "NoSuchKey",
        "a missing key is NoSuchKey",
    )
    wrong = oss_client(endpoint, key_id, secret + "x")
    check(
        error_code(lambda: wrong.get_object(oss.GetObjectRequest(bucket=bucket, key=key)))
        == "SignatureDoesNotMatch",
        "a wrong secret is SignatureDoesNotMatch",
    )
    unknown = oss_client(endpoint, "NoSuchKeyId", secret)
    check(
        error_code(lambda: unknown.get_object(oss.GetObjectRequest(bucket=bucket, key=key)))
        == "InvalidAccessKeyId",
        "an unknown key id is InvalidAccessKeyId",
    )
    if FAILURES:
        print(f"oss interop: {len(FAILURES)} checks failed")
        sys.exit(1)
    print("oss interop: every check passed")


if __name__ == "__main__":
    main()
