"""Differential suites: the official SDKs' own code and ours, on inputs
nobody picked by hand.

Run by `cargo xtask interop` inside the virtual environment that holds the
pinned official packages (requirements.txt). Each suite generates its cases
from one seed (printed; `--seed` repeats a run), sends them through the
official code here and through ours (the `interop-oracle` binary, which
reads the cases as JSON lines and answers each), and compares. A difference
fails the run unless a row of the allow-list (allowed-differences.txt)
names it, with the reason we differ.

Suites:
  sign_v3    ACS3-HMAC-SHA256: canonical request, string to sign, signature,
             Authorization (tea's Utils.get_authorization); our verifier
             must accept the official signature and reject any one change.
  sign_v1    HMAC-SHA1 RPC: string to sign and signature (tea's
             Utils.get_rpcsignature); verifier as above.
  endpoint   every region of the core SDK's endpoint data, of the tea
             client's endpoint map and some generated ones, public and VPC:
             our host against aliyun-python-sdk-core's resolver and the tea
             client's get_endpoint.
  response   generated DescribeInvocationResults bodies decoded by the
             official model (from_map) and by ecs-model: every field equal,
             outputs compared as bytes.
  sign_oss   OSS4-HMAC-SHA256 GetObject requests (keys with Unicode and
             `*~+/=&%`, ranges, metadata and additional headers, queries,
             STS tokens): canonical request, string to sign, Authorization
             (alibabacloud-oss-v2's SignerV4).
  credentials  fixtures (environment, credentials.ini, config.json in
             every mode both read, malformed and missing files) resolved by
             alibabacloud_credentials' default chain and by ours: the same
             key id and token or both an error, and the same STS parameters
             (every request recorded and answered by a canned server).
  retry      every (HTTP status, error code) pair of the core SDK's retry
             policy, throttling and unknown codes: retried by both or by
             neither (aliyun-python-sdk-core's DefaultConfigRetryCondition).

Usage: python differential.py ORACLE [--seed N] [--suite NAME]... [--self-test]

--self-test breaks one rule of ours on purpose per suite (the encoding of
`~`, the VPC host, a field name, a retried code) and checks that each
suite then fails: the comparison itself is tested.
"""

import argparse
import base64
import datetime
import fnmatch
import hashlib
import hmac as real_hmac
import json
import os
import random
import re
import subprocess
import sys
import time
from urllib.parse import quote

HERE = os.path.dirname(os.path.abspath(__file__))
ALLOW_FILE = os.path.join(HERE, "allowed-differences.txt")


# ---------------------------------------------------------------- plumbing


def load_allow_list(path):
    """Rows `suite<TAB or spaces>kind-pattern<TAB or spaces>| reason`."""
    rows = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            head, sep, reason = line.partition("|")
            parts = head.split(None, 1)
            if not sep or len(parts) != 2 or not reason.strip():
                sys.exit(f"{path}:{number}: want `suite kind-pattern | reason`, got {line!r}")
            rows.append((parts[0], parts[1].strip(), reason.strip()))
    return rows


def run_node(node_dir, cases):
    """The official Node SDK's answers to `cases` (node/oracle.js), in order."""
    text = "".join(json.dumps(case, ensure_ascii=False) + "\n" for case in cases)
    env = {**os.environ, "NODE_PATH": os.path.join(node_dir, "node_modules")}
    done = subprocess.run(
        ["node", os.path.join(HERE, "node", "oracle.js")],
        input=text.encode("utf-8"), capture_output=True, check=False, env=env,
    )
    if done.returncode != 0:
        sys.exit(f"the Node SDK's oracle failed ({done.returncode}): {done.stderr.decode(errors='replace')}")
    answers = [json.loads(line) for line in done.stdout.decode("utf-8").splitlines()]
    if len(answers) != len(cases):
        sys.exit(f"the Node SDK's oracle answered {len(answers)} of {len(cases)} cases")
    return answers


def run_oracle(oracle, cases):
    """Our answers to `cases`, in order."""
    text = "".join(json.dumps(case, ensure_ascii=False) + "\n" for case in cases)
    done = subprocess.run(
        [oracle], input=text.encode("utf-8"), capture_output=True, check=False
    )
    if done.returncode != 0:
        sys.exit(f"interop-oracle failed ({done.returncode}): {done.stderr.decode(errors='replace')}")
    answers = [json.loads(line) for line in done.stdout.decode("utf-8").splitlines()]
    if len(answers) != len(cases):
        sys.exit(f"interop-oracle answered {len(answers)} of {len(cases)} cases")
    for case, answer in zip(cases, answers):
        if "oracle_error" in answer:
            sys.exit(f"interop-oracle could not read a case: {answer['oracle_error']}\n{case}")
    return answers


class Report:
    """The differences of one suite, each a kind (matched against the
    allow-list) and a detail (printed)."""

    def __init__(self, suite, cases):
        self.suite = suite
        self.cases = cases
        self.differences = []

    def differ(self, kind, detail):
        self.differences.append((kind, detail))

    def judge(self, allow, quiet=False):
        """Returns the number of differences not allowed."""
        allowed = 0
        unexplained = []
        for kind, detail in self.differences:
            if any(s == self.suite and fnmatch.fnmatchcase(kind, p) for s, p, _ in allow):
                allowed += 1
            else:
                unexplained.append((kind, detail))
        if not quiet:
            status = "ok  " if not unexplained else "FAIL"
            print(
                f"  {status} {self.suite}: {self.cases} cases, {allowed} allowed differences, "
                f"{len(unexplained)} not allowed"
            )
            for kind, detail in unexplained[:5]:
                print(f"       {kind}: {detail}")
            if len(unexplained) > 5:
                print(f"       ... and {len(unexplained) - 5} more")
            if os.environ.get("DIFFERENTIAL_KINDS"):
                kinds = {}
                for kind, _ in unexplained:
                    kinds[kind] = kinds.get(kind, 0) + 1
                for kind, n in sorted(kinds.items()):
                    print(f"       kind {kind}: {n}")
        return len(unexplained)


def short(value, limit=160):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


# ------------------------------------------------------------- generators

UNICODE = "éü中文字😀ß∑"
SPECIAL = "*~+/=&% "
PLAIN = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_."


def random_text(rng, low=0, high=24):
    size = rng.randint(low, high)
    alphabet = rng.choice([PLAIN, PLAIN + SPECIAL, PLAIN + UNICODE, PLAIN + SPECIAL + UNICODE])
    return "".join(rng.choice(alphabet) for _ in range(size))


def random_value(rng):
    roll = rng.random()
    if roll < 0.08:
        return ""
    if roll < 0.12:
        return random_text(rng, 2000, 5000)
    return random_text(rng, 1, 40)


def random_name(rng, taken):
    while True:
        if rng.random() < 0.85:
            name = rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") + random_text(rng, 0, 12).translate(
                {ord(c): None for c in SPECIAL + UNICODE}
            )
            if rng.random() < 0.2:
                name += f".{rng.randint(1, 20)}.Key"
        else:
            name = rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") + random_text(rng, 1, 10)
        if name not in taken:
            taken.add(name)
            return name


def random_params(rng, reserved):
    taken = set(reserved)
    return {random_name(rng, taken): random_value(rng) for _ in range(rng.randint(1, 40))}


def mutate_text(rng, text):
    """`text` with one character replaced by a different one (or one added
    to an empty text)."""
    if not text:
        return "x"
    i = rng.randrange(len(text))
    new = text[i]
    while new == text[i]:
        new = rng.choice(PLAIN + SPECIAL + UNICODE)
    return text[:i] + new + text[i + 1:]


def iso_now(rng):
    moment = datetime.datetime(2026, 1, 1) + datetime.timedelta(seconds=rng.randint(0, 300 * 86400))
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# ----------------------------------------------------------- official code


class Capture:
    """Wraps tea's `hmac` so that what the official code signs is seen."""

    def __init__(self):
        self.messages = []

    def new(self, key, msg=None, digestmod=None):
        self.messages.append(msg.decode("utf-8") if isinstance(msg, bytes) else msg)
        return real_hmac.new(key, msg, digestmod)


def tea_utils():
    from alibabacloud_tea_openapi import utils

    return utils


class TeaRequest:
    """The attributes of a request that tea's get_authorization reads."""

    def __init__(self, method, pathname, query, headers):
        self.method = method
        self.pathname = pathname
        self.query = query
        self.headers = headers


# ------------------------------------------------------------------ suites


def suite_sign_v3(rng, count):
    utils = tea_utils()
    capture = Capture()
    utils.hmac = capture
    original_hash = utils.Utils.hash
    hashed = []

    def spy_hash(raw, sign_type):
        hashed.append(raw.decode("utf-8"))
        return original_hash(raw, sign_type)

    utils.Utils.hash = staticmethod(spy_hash)
    cases, official = [], []
    try:
        for _ in range(count):
            method = rng.choice(["GET", "POST"])
            query = random_params(rng, ())
            body = ""
            headers = {
                "host": "ecs.cn-hangzhou.aliyuncs.com",
                "x-acs-action": "DescribeInvocationResults",
                "x-acs-version": "2014-05-26",
                "x-acs-date": iso_now(rng),
                "x-acs-signature-nonce": hashlib.md5(str(rng.random()).encode()).hexdigest(),
            }
            if method == "POST" and rng.random() < 0.5:
                form = random_params(rng, query.keys())
                body = "&".join(f"{quote(k, safe='~')}={quote(v, safe='~')}" for k, v in form.items())
                headers["content-type"] = "application/x-www-form-urlencoded"
            payload = hashlib.sha256(body.encode("utf-8")).hexdigest()
            headers["x-acs-content-sha256"] = payload
            key_id = "AK" + random_text(rng, 4, 12).translate({ord(c): None for c in SPECIAL + UNICODE})
            secret = random_text(rng, 8, 40) or "s"
            if rng.random() < 0.5:
                headers["x-acs-security-token"] = random_text(rng, 20, 200).strip() or "token"
                headers["x-acs-accesskey-id"] = key_id
            capture.messages.clear()
            hashed.clear()
            authorization = utils.Utils.get_authorization(
                TeaRequest(method, "/", dict(query), dict(headers)),
                "ACS3-HMAC-SHA256",
                payload,
                key_id,
                secret,
            )
            official.append(
                {
                    "canonical": hashed[-1],
                    "string_to_sign": capture.messages[-1],
                    "signature": authorization.rsplit("Signature=", 1)[1],
                    "authorization": authorization,
                }
            )
            header_pairs = [[k, v] for k, v in headers.items()]
            query_pairs = [[k, v] for k, v in query.items()]
            mutants = []
            for _ in range(3):
                where = rng.choice(["query", "header", "signature"] + (["body"] if body else []))
                m_query = [list(p) for p in query_pairs]
                m_headers = [list(p) for p in header_pairs] + [["Authorization", authorization]]
                m_body = body
                if where == "query":
                    pair = rng.choice(m_query)
                    pair[1] = mutate_text(rng, pair[1])
                elif where == "header":
                    pair = rng.choice(m_headers[:-1])
                    pair[1] = mutate_text(rng, pair[1]).strip() or "changed"
                elif where == "body":
                    m_body = mutate_text(rng, body)
                else:
                    sig = authorization.rsplit("Signature=", 1)[1]
                    i = rng.randrange(len(sig))
                    changed = sig[:i] + ("0" if sig[i] != "0" else "1") + sig[i + 1:]
                    m_headers[-1][1] = authorization[: -len(sig)] + changed
                mutants.append({"query": m_query, "headers": m_headers, "body": m_body})
            cases.append(
                {
                    "suite": "sign_v3",
                    "method": method,
                    "path": "/",
                    "query": query_pairs,
                    "headers": header_pairs,
                    "body": body,
                    "key_id": key_id,
                    "secret": secret,
                    "official_authorization": authorization,
                    "mutants": mutants,
                }
            )
    finally:
        utils.hmac = real_hmac
        utils.Utils.hash = staticmethod(original_hash)
    return cases, official


def names_are_plain(case):
    return all(all(c in PLAIN for c in k) for k, _ in case["query"])


def compare_sign(report, cases, official, ours):
    for case, theirs, mine in zip(cases, official, ours):
        plain = "" if names_are_plain(case) else " special-names"
        for field in ("canonical", "string_to_sign", "signature", "authorization"):
            if field in theirs and theirs[field] != mine[field]:
                report.differ(
                    f"{field}{plain}",
                    f"official {short(theirs[field])} ours {short(mine[field])}",
                )
        if mine["verify"] is not None:
            report.differ(f"verify-refused{plain}", f"{mine['verify']} for {short(case)}")
        kept = [i for i, rejected in enumerate(mine["mutants_rejected"]) if not rejected]
        for i in kept:
            report.differ("mutant-accepted", short(case["mutants"][i]))


def suite_sign_v1(rng, count):
    utils = tea_utils()
    capture = Capture()
    utils.hmac = capture
    reserved = (
        "Action", "Format", "Version", "AccessKeyId", "SignatureMethod", "Timestamp",
        "SignatureVersion", "SignatureNonce", "SecurityToken", "Signature",
    )
    cases, official = [], []
    try:
        for _ in range(count):
            method = rng.choice(["GET", "POST"])
            key_id = "AK" + random_text(rng, 4, 12).translate({ord(c): None for c in SPECIAL + UNICODE})
            secret = random_text(rng, 8, 40) or "s"
            params = random_params(rng, reserved)
            params.update(
                {
                    "Action": "DescribeInvocationResults",
                    "Format": "JSON",
                    "Version": "2014-05-26",
                    "AccessKeyId": key_id,
                    "SignatureMethod": "HMAC-SHA1",
                    "Timestamp": iso_now(rng),
                    "SignatureVersion": "1.0",
                    "SignatureNonce": hashlib.md5(str(rng.random()).encode()).hexdigest(),
                }
            )
            if rng.random() < 0.5:
                params["SecurityToken"] = random_text(rng, 20, 200) or "token"
            capture.messages.clear()
            signature = utils.Utils.get_rpcsignature(dict(params), method, secret)
            official.append({"string_to_sign": capture.messages[-1], "signature": signature})
            pairs = [[k, v] for k, v in params.items()]
            mutants = []
            for _ in range(3):
                m = [list(p) for p in pairs] + [["Signature", signature]]
                pair = rng.choice(m)
                pair[1] = mutate_text(rng, pair[1])
                mutants.append(m)
            cases.append(
                {
                    "suite": "sign_v1",
                    "method": method,
                    "params": pairs,
                    "key_id": key_id,
                    "secret": secret,
                    "official_signature": signature,
                    "mutants": mutants,
                }
            )
    finally:
        utils.hmac = real_hmac
    return cases, official


def names_are_plain_v1(case):
    return all(all(c in PLAIN for c in k) for k, _ in case["params"])


def compare_sign_v1(report, cases, official, ours):
    for case, theirs, mine in zip(cases, official, ours):
        plain = "" if names_are_plain_v1(case) else " special-names"
        for field in ("string_to_sign", "signature"):
            if theirs[field] != mine[field]:
                report.differ(f"{field}{plain}", f"official {short(theirs[field])} ours {short(mine[field])}")
        if mine["verify"] is not None:
            report.differ(f"verify-refused{plain}", f"{mine['verify']} for {short(case)}")
        for i, rejected in enumerate(mine["mutants_rejected"]):
            if not rejected:
                report.differ("mutant-accepted", short(case["mutants"][i]))


def core_resolver():
    """aliyun-python-sdk-core's endpoint resolution, without the location
    service (a network call the suite must not make)."""
    from aliyunsdkcore.client import AcsClient
    from aliyunsdkcore.endpoint.location_service_endpoint_resolver import (
        LocationServiceEndpointResolver,
    )
    from aliyunsdkecs.request.v20140526.DescribeInvocationResultsRequest import (
        DescribeInvocationResultsRequest,
    )

    LocationServiceEndpointResolver.resolve = lambda self, request: None

    def resolve(region, network):
        client = AcsClient("id", "secret", region)
        request = DescribeInvocationResultsRequest()
        request.request_network = network
        try:
            return client._resolve_endpoint(request)
        except Exception as err:  # the core SDK's own refusal
            return {"error": type(err).__name__}

    return resolve


def tea_endpoint():
    from alibabacloud_ecs20140526.client import Client
    from alibabacloud_tea_openapi import models

    def resolve(region, network):
        config = models.Config(
            access_key_id="id", access_key_secret="secret", region_id=region, network=network
        )
        client = Client(config)
        return client._endpoint

    return resolve


def endpoint_regions(rng):
    import aliyunsdkcore

    data_file = os.path.join(os.path.dirname(aliyunsdkcore.__file__), "data", "endpoints.json")
    with open(data_file, encoding="utf-8") as f:
        data = json.load(f)
    regions = set(data["regions"]) | set(data["regional_endpoints"].get("ecs", {}))
    from alibabacloud_ecs20140526.client import Client
    from alibabacloud_tea_openapi import models

    client = Client(models.Config(access_key_id="id", access_key_secret="s", region_id="cn-hangzhou"))
    mapped = set(client._endpoint_map)
    regions |= mapped
    for _ in range(40):
        head = rng.choice(["cn", "ap", "eu", "us", "me", "rus", "sa", "af", "xx"])
        regions.add(f"{head}-{random_text(rng, 3, 8).translate({ord(c): None for c in SPECIAL + UNICODE + '._'}).lower() or 'x'}-{rng.randint(1, 9)}")
    return sorted(regions), mapped


def suite_endpoint(rng):
    core = core_resolver()
    tea = tea_endpoint()
    regions, mapped = endpoint_regions(rng)
    cases, official = [], []
    for region in regions:
        for network in ("public", "vpc"):
            cases.append({"suite": "endpoint", "region": region, "network": network})
            official.append({"core": core(region, network), "tea": tea(region, network), "mapped": region in mapped})
    return cases, official


def compare_endpoint(report, cases, official, ours):
    for case, theirs, mine in zip(cases, official, ours):
        region, network = case["region"], case["network"]
        mapped = "mapped" if theirs["mapped"] else "regional"
        host = mine.get("host", {"error": mine.get("error")})
        for who in ("core", "tea"):
            if who not in theirs:
                continue
            expected = theirs[who]
            if isinstance(expected, dict):
                if "host" in mine:
                    report.differ(f"{who} {network} {mapped} refused-by-official", f"{region}: ours {host}, {who} {expected}")
            elif expected != mine.get("host"):
                report.differ(f"{who} {network} {mapped} host", f"{region}: ours {host}, {who} {expected}")


RESULT_FIELDS = {
    "CommandId": "text", "ContainerId": "text", "ContainerName": "text", "Dropped": "int",
    "ErrorCode": "text", "ErrorInfo": "text", "ExitCode": "int", "FinishedTime": "time",
    "InstanceId": "text", "InvocationStatus": "status", "InvokeId": "text",
    "InvokeRecordStatus": "status", "Launcher": "text", "OssOutputDelivery": "text",
    "OssOutputErrorCode": "text", "OssOutputErrorInfo": "text", "OssOutputStatus": "text",
    "OssOutputUri": "text", "Output": "output", "Repeats": "int", "StartTime": "time",
    "StopTime": "time", "TerminationMode": "text", "Username": "text",
}
STATUSES = ["Running", "Finished", "Success", "Failed", "Stopped", "Pending", "Scheduled",
            "Stopping", "Timeout", "Cancelled", "Terminated", "Invalid", "Aborted", "Error",
            "PartialFailed", "Hibernating"]


def random_result(rng, encoding):
    result = {}
    for field, kind in RESULT_FIELDS.items():
        roll = rng.random()
        if roll < 0.1:
            continue  # missing
        if roll < 0.14:
            result[field] = None
            continue
        if kind == "text":
            result[field] = random_text(rng, 0, 30)
        elif kind == "int":
            n = rng.choice([0, 1, -1, rng.randint(-2**31, 2**31), rng.randint(0, 10**12)])
            result[field] = str(n) if rng.random() < 0.25 else n
            if rng.random() < 0.003:
                result[field] = rng.choice([f" {n} ", float(n), "not a number", 2**70, True])
        elif kind == "time":
            result[field] = iso_now(rng)
        elif kind == "status":
            result[field] = rng.choice(STATUSES)
        elif kind == "output":
            if encoding == "PlainText":
                result[field] = random_text(rng, 0, 400)
            else:
                raw = (bytes(rng.randrange(256) for _ in range(rng.randint(0, 300)))
                       if rng.random() < 0.3 else random_text(rng, 0, 300).encode("utf-8"))
                result[field] = base64.b64encode(raw).decode("ascii")
    roll = rng.random()
    if roll < 0.3:
        result["Tags"] = {"Tag": [{"TagKey": random_text(rng, 1, 10), "TagValue": random_text(rng, 0, 10)}
                                  for _ in range(rng.randint(0, 4))]}
    elif roll < 0.4:
        result["Tags"] = {"Tag": []}
    if rng.random() < 0.2:
        result["SomethingNew" + str(rng.randint(0, 9))] = random_text(rng, 0, 10)
    return result


def suite_response(rng, count):
    from alibabacloud_ecs20140526 import models

    cases, official = [], []
    for _ in range(count):
        encoding = rng.choice(["Base64", "PlainText"])
        results = [random_result(rng, encoding) for _ in range(rng.randint(0, 50))]
        invocation = {"InvocationResults": {"InvocationResult": results}}
        for field, value in (("TotalCount", len(results)), ("PageNumber", 1), ("PageSize", 50)):
            if rng.random() < 0.8:
                invocation[field] = str(value) if rng.random() < 0.2 else value
        if rng.random() < 0.5:
            invocation["NextToken"] = random_text(rng, 0, 40)
        body = {"RequestId": random_text(rng, 10, 36), "Invocation": invocation}
        text = json.dumps(body, ensure_ascii=rng.random() < 0.5)
        parsed = models.DescribeInvocationResultsResponseBody().from_map(json.loads(text))
        official.append(parsed.to_map())
        cases.append({"suite": "response", "body": text, "encoding": encoding})
    return cases, official


def norm(value):
    """The official model keeps what the JSON held; compare as text, with
    absent, null and empty alike."""
    if value is None or value == "":
        return None
    return str(value)


def norm_int(value):
    """A count as the official model kept it, read as a number: it keeps
    `" 3 "` and `3.0` as given; both mean 3."""
    if value is None or value == "" or isinstance(value, bool):
        return norm(value)
    try:
        number = float(str(value).strip())
    except ValueError:
        return norm(value)
    return str(int(number)) if number.is_integer() and abs(number) < 2**63 else norm(value)


def official_output(text, encoding):
    if text is None:
        return b"".hex()
    if encoding == "PlainText":
        return text.encode("utf-8").hex()
    return base64.b64decode(text).hex()


def compare_response(report, cases, official, ours):
    for case, theirs, mine in zip(cases, official, ours):
        if "error" in theirs:
            if "error" not in mine:
                field = re.search(r"type of (\w+) is mismatch", theirs["error"])
                kind = f"refused by official: {field.group(1)}" if field else "refused by official"
                report.differ(kind, f"official: {theirs['error']} for {short(case['body'])}")
            continue
        if "error" in mine:
            field = re.search(r"(\w+) should be an integer", mine["error"])
            kind = f"refused non-integer {field.group(1)}" if field else "refused"
            report.differ(kind, f"ours: {mine['error']} for {short(case['body'])}")
            continue
        response = mine["response"]
        if norm(theirs.get("RequestId")) != norm(response.get("RequestId")):
            report.differ("RequestId", f"{theirs.get('RequestId')!r} vs {response.get('RequestId')!r}")
        inv_theirs = theirs.get("Invocation", {})
        inv_ours = response.get("Invocation", {})
        for field in ("TotalCount", "PageNumber", "PageSize", "NextToken"):
            a, b = norm(inv_theirs.get(field)), norm(inv_ours.get(field))
            if field != "NextToken":
                a = norm_int(inv_theirs.get(field))
            if field != "NextToken" and a is None:
                a = "0"  # ours reads an absent count as 0
            if a != b:
                report.differ(f"Invocation.{field}", f"official {a!r} ours {b!r}")
        results_theirs = inv_theirs.get("InvocationResults", {}).get("InvocationResult", [])
        results_ours = inv_ours.get("InvocationResults", {}).get("InvocationResult", [])
        if len(results_theirs) != len(results_ours):
            report.differ("result-count", f"official {len(results_theirs)} ours {len(results_ours)}")
            continue
        for i, (a, b) in enumerate(zip(results_theirs, results_ours)):
            for field, kind in RESULT_FIELDS.items():
                if field == "Output":
                    expected = official_output(a.get("Output"), case["encoding"])
                    got = mine["outputs"][i]
                    if expected != got:
                        report.differ("Output", f"result {i}: official {expected[:80]} ours {short(got)}")
                    continue
                x, y = norm(a.get(field)), norm(b.get(field))
                if kind == "int":
                    x = norm_int(a.get(field))
                    if x is None:
                        x = None if field == "ExitCode" else "0"
                if x != y:
                    report.differ(f"result.{field}", f"result {i}: official {x!r} ours {y!r}")
            tags_a = [(t.get("TagKey"), t.get("TagValue")) for t in (a.get("Tags") or {}).get("Tag") or []]
            tags_b = [(t.get("TagKey"), t.get("TagValue")) for t in (b.get("Tags") or {}).get("Tag") or []]
            if [(norm(k), norm(v)) for k, v in tags_a] != [(norm(k), norm(v)) for k, v in tags_b]:
                report.differ("result.Tags", f"result {i}: official {tags_a} ours {tags_b}")


RETRY_STATUSES = [400, 403, 404, 409, 429, 500, 501, 502, 503, 504]
EXTRA_CODES = ["", "Throttling.User", "Throttling.Api", "InternalError.Dispatch",
               "Gateway.Upstream.Timeout", "InvalidParameter", "SignatureDoesNotMatch",
               "Forbidden.RAM", "InvalidAccessKeyId.NotFound", "IdempotentParameterMismatch",
               "SomethingNew"]


def suite_retry(_rng):
    from aliyunsdkcore.acs_exception.exceptions import ServerException
    from aliyunsdkcore.retry.retry_condition import DefaultConfigRetryCondition, RetryCondition
    from aliyunsdkcore.retry.retry_policy_context import RetryPolicyContext
    from aliyunsdkecs.request.v20140526.DescribeInvocationResultsRequest import (
        DescribeInvocationResultsRequest,
    )

    condition = DefaultConfigRetryCondition()
    import aliyunsdkcore

    with open(os.path.join(os.path.dirname(aliyunsdkcore.__file__), "data", "retry_config.json")) as f:
        config = json.load(f)["ecs"]["2014-05-26"]
    codes = sorted(set(config["RetryableNormalErrors"] + config["RetryableThrottlingErrors"] + EXTRA_CODES))
    cases, official = [], []
    request = DescribeInvocationResultsRequest()
    for status in RETRY_STATUSES:
        for code in codes:
            error = ServerException(code, "message", status, "request-id")
            context = RetryPolicyContext(request, error, 0, status)
            decision = condition.should_retry(context)
            official.append(
                {
                    # The client stops when the NO_RETRY bit is set (its
                    # AndRetryCondition ors the conditions' bits together).
                    "retryable": not decision & RetryCondition.NO_RETRY,
                    "throttling": bool(decision & RetryCondition.SHOULD_RETRY_WITH_THROTTLING_BACKOFF),
                }
            )
            cases.append({"suite": "retry", "status": status, "code": code})
    return cases, official


def compare_retry(report, cases, official, ours):
    for case, theirs, mine in zip(cases, official, ours):
        status, code = case["status"], case["code"] or "(none)"
        if theirs["retryable"] != mine["retryable"]:
            who = "we retry" if mine["retryable"] else "core retries"
            report.differ(f"status {status} code {code}: {who}", f"{case}")
        elif theirs["retryable"] and theirs["throttling"] != mine["throttling"]:
            report.differ(f"status {status} code {code}: backoff", f"official {theirs} ours {mine}")


# -------------------------------------------------------------------- oss


def random_bucket(rng):
    size = rng.randint(3, 20)
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(size))


def oss_cases(rng, count):
    """OSS V4 requests, signed by alibabacloud-oss-v2's SignerV4."""
    import alibabacloud_oss_v2 as oss
    from alibabacloud_oss_v2.signer.v4 import SignerV4

    captured = []
    original = SignerV4._calc_canonical_request

    def spy(self, signing_ctx, additional_headers=None):
        text = original(self, signing_ctx=signing_ctx, additional_headers=additional_headers)
        captured.append(text)
        return text

    SignerV4._calc_canonical_request = spy
    cases, official = [], []
    try:
        for _ in range(count):
            bucket = random_bucket(rng)
            key = "/".join(random_text(rng, 1, 12) for _ in range(rng.randint(1, 4)))
            region = rng.choice(["cn-hangzhou", "cn-shanghai", "ap-southeast-1", "eu-central-1"])
            headers = {}
            if rng.random() < 0.6:
                start = rng.randint(0, 10**9)
                headers["Range"] = f"bytes={start}-" + (str(start + rng.randint(0, 10**6)) if rng.random() < 0.5 else "")
            if rng.random() < 0.3:
                headers["Content-Type"] = rng.choice(["text/plain", "application/octet-stream"])
            if rng.random() < 0.3:
                headers["x-oss-meta-" + random_bucket(rng)] = random_text(rng, 1, 20).strip() or "v"
            if rng.random() < 0.3:
                headers["Host"] = f"{bucket}.oss-{region}.aliyuncs.com"
            additional = sorted({rng.choice(["range", "host", "Range", "x-absent", "content-type"])
                                 for _ in range(rng.randint(0, 3))})
            query = {}
            if rng.random() < 0.3:
                query = {random_bucket(rng): random_text(rng, 0, 10) for _ in range(rng.randint(1, 3))}
            key_id = "LTAI" + random_bucket(rng)
            secret = secret_of(rng)
            token = (random_text(rng, 20, 80).strip() or "t") if rng.random() < 0.5 else None
            moment = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc) + datetime.timedelta(
                seconds=rng.randint(0, 300 * 86400))
            url = f"https://{bucket}.oss-{region}.aliyuncs.com/{quote(key, safe='/')}"
            if query:
                url += "?" + "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" if v else quote(k, safe='')
                                      for k, v in query.items())
            request = oss.types.HttpRequest("GET", url, headers=dict(headers))
            ctx = oss.types.SigningContext(
                product="oss", region=region, bucket=bucket, key=key, request=request,
                credentials=oss.types.Credentials(key_id, secret, token), signing_time=moment,
                additional_headers=set(additional))
            captured.clear()
            SignerV4().sign(ctx)
            official.append({"canonical": captured[-1], "string_to_sign": ctx.string_to_sign,
                             "authorization": request.headers["Authorization"]})
            cases.append({"suite": "sign_oss", "bucket": bucket, "key": key, "region": region,
                          "headers": [[k, v] for k, v in headers.items()], "additional": additional,
                          "query": [[k, v] for k, v in query.items()], "key_id": key_id, "secret": secret,
                          "token": token, "time": moment.strftime("%Y-%m-%dT%H:%M:%SZ")})
    finally:
        SignerV4._calc_canonical_request = original
    return cases, official


def compare_oss(report, cases, official, ours):
    for case, theirs, mine in zip(cases, official, ours):
        for field in ("canonical", "string_to_sign", "authorization"):
            if theirs[field] != mine[field]:
                report.differ(field, f"official {short(theirs[field])} ours {short(mine[field])} for {short(case)}")


def write_oss_vectors(path, count=40):
    """The committed vectors of ecs-sign's tests/oss_vectors.rs."""
    cases, official = oss_cases(random.Random("oss-vectors"), count)
    vectors = [{**case, "expected": theirs} for case, theirs in zip(cases, official)]
    for vector in vectors:
        vector.pop("suite")
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"generated_by": "xtask/interop/differential.py --write-oss-vectors (alibabacloud-oss-v2 SignerV4)",
                   "vectors": vectors}, f, ensure_ascii=False, indent=1)
        f.write("\n")


# ------------------------------------------------------------ credentials

STS_PARAMS = ("Action", "RoleArn", "RoleSessionName", "DurationSeconds", "Policy",
              "ExternalId", "OIDCProviderArn", "OIDCToken")


def canned_answer(params, path=""):
    """What the recording server answers (the same in interop-oracle)."""
    if path == "/cloud-credentials":
        return {"CloudCredential": {"AccessKeyId": "SSO.AK", "AccessKeySecret": "sso-secret",
                                    "SecurityToken": "token-of-sso", "Expiration": "2099-01-01T00:00:00Z"}}
    if path == "/v1/token":
        return {"access_token": "new-access", "refresh_token": "new-refresh", "expires_in": 3600}
    if path == "/v1/exchange":
        return {"AccessKeyId": "OAUTH.AK", "AccessKeySecret": "oauth-secret",
                "SecurityToken": "token-of-oauth", "Expiration": "2099-01-01T00:00:00Z"}
    action = params.get("Action", "")
    if action in ("AssumeRole", "AssumeRoleWithOIDC"):
        return {"RequestId": "R", "Credentials": {
            "AccessKeyId": f"STS.{action}", "AccessKeySecret": "sts-secret",
            "SecurityToken": f"token-of-{action}", "Expiration": "2099-01-01T00:00:00Z"}}
    return {"Code": "Success", "AccessKeyId": "URI.AK", "AccessKeySecret": "uri-secret",
            "SecurityToken": "token-of-uri", "Expiration": "2099-01-01T00:00:00Z"}


def probe_credentials():
    """In a child process whose environment is the fixture's: resolve the
    official default chain, with every HTTP request recorded and answered
    by canned_answer. Prints one JSON object."""
    from urllib.parse import parse_qsl

    from Tea.core import TeaCore

    requests = []

    class Response:
        def __init__(self, body):
            self.status_code = 200
            self.body = json.dumps(body).encode("utf-8")
            self.headers = {"content-type": "application/json"}

    def do_action(request, runtime=None):
        params = {k: str(v) for k, v in (request.query or {}).items()}
        body = request.body
        if isinstance(body, bytes):
            body = body.decode("utf-8")
        if isinstance(body, str) and body:
            params.update(parse_qsl(body, keep_blank_values=True))
        elif isinstance(body, dict):
            params.update({k: str(v) for k, v in body.items()})
        requests.append({"host": request.headers.get("host", ""), "path": request.pathname,
                         "params": params})
        return Response(canned_answer(params, request.pathname))

    async def do_action_async(request, runtime=None):
        return do_action(request, runtime)

    TeaCore.do_action = staticmethod(do_action)
    TeaCore.async_do_action = staticmethod(do_action_async)
    from alibabacloud_credentials.provider.default import DefaultCredentialsProvider

    try:
        creds = DefaultCredentialsProvider().get_credentials()
        out = {"id": creds.get_access_key_id(), "token": creds.get_security_token() or None,
               "secret_sha256": hashlib.sha256(creds.get_access_key_secret().encode("utf-8")).hexdigest()}
    except Exception as err:  # the official chain's refusal, whatever its type
        out = {"error": f"{type(err).__name__}: {err}"}
    out["requests"] = requests
    print(json.dumps(out))


def key_id(rng):
    return "LTAI" + "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(rng.randint(12, 20)))


def secret_of(rng):
    return "".join(rng.choice(PLAIN) for _ in range(30))


def credential_fixtures(rng):
    """At least 30 fixtures: environment variables, credentials.ini
    profiles, aliyun CLI config.json profiles in every mode both read,
    malformed and missing files. `{HOME}` in a value is the fixture's home."""
    fixtures = []

    def add(name, env=None, files=None):
        fixtures.append({"name": name, "env": env or {}, "files": files or {}})

    def ak(prefix=""):
        return {prefix + "ALIBABA_CLOUD_ACCESS_KEY_ID": key_id(rng),
                prefix + "ALIBABA_CLOUD_ACCESS_KEY_SECRET": secret_of(rng)}

    role = lambda: f"acs:ram::{rng.randint(10**15, 10**16)}:role/{random_text(rng, 3, 10).translate({ord(c): None for c in SPECIAL + UNICODE}) or 'r'}"
    session = lambda: "s-" + "".join(rng.choice(PLAIN) for _ in range(rng.randint(3, 20)))
    policy = lambda: json.dumps({"Version": "1", "Statement": [{"Effect": "Allow", "Action": "ecs:Describe*", "Resource": "*"}]})

    def cli_config(profiles, current):
        return json.dumps({"current": current, "profiles": profiles, "meta_path": ""})

    def ini(sections):
        return "".join(f"[{name}]\n" + "".join(f"{k} = {v}\n" for k, v in body.items()) + "\n"
                       for name, body in sections.items())

    # Environment variables.
    add("env ak", ak())
    add("env ak and token", {**ak(), "ALIBABA_CLOUD_SECURITY_TOKEN": random_text(rng, 20, 60).strip() or "t"})
    add("env id without secret", {"ALIBABA_CLOUD_ACCESS_KEY_ID": key_id(rng)})
    add("env secret without id", {"ALIBABA_CLOUD_ACCESS_KEY_SECRET": secret_of(rng)})
    add("nothing at all", {})
    # OIDC from the environment.
    add("env oidc", {"ALIBABA_CLOUD_ROLE_ARN": role(), "ALIBABA_CLOUD_OIDC_PROVIDER_ARN": "acs:ram::1:oidc-provider/p",
                     "ALIBABA_CLOUD_OIDC_TOKEN_FILE": "{HOME}/oidc-token", "ALIBABA_CLOUD_ROLE_SESSION_NAME": session()},
        {"oidc-token": "eyJ" + random_text(rng, 20, 80).translate({ord(c): None for c in SPECIAL + UNICODE})})
    add("env oidc beside env ak", {**ak(), "ALIBABA_CLOUD_ROLE_ARN": role(),
                                   "ALIBABA_CLOUD_OIDC_PROVIDER_ARN": "acs:ram::1:oidc-provider/p",
                                   "ALIBABA_CLOUD_OIDC_TOKEN_FILE": "{HOME}/oidc-token",
                                   "ALIBABA_CLOUD_ROLE_SESSION_NAME": session()},
        {"oidc-token": "eyJtoken"})
    # The aliyun CLI's config.json.
    a = {"name": "a", "mode": "AK", "access_key_id": key_id(rng), "access_key_secret": secret_of(rng)}
    add("cli AK", {}, {".aliyun/config.json": cli_config([a], "a")})
    add("cli StsToken", {}, {".aliyun/config.json": cli_config([{
        "name": "s", "mode": "StsToken", "access_key_id": key_id(rng), "access_key_secret": secret_of(rng),
        "sts_token": random_text(rng, 20, 60).strip() or "t"}], "s")})
    arn = {"name": "r", "mode": "RamRoleArn", "access_key_id": key_id(rng), "access_key_secret": secret_of(rng),
           "ram_role_arn": role(), "ram_session_name": session(), "expired_seconds": rng.choice([900, 3600, 7200])}
    add("cli RamRoleArn", {}, {".aliyun/config.json": cli_config([arn], "r")})
    add("cli RamRoleArn with policy and external id", {}, {".aliyun/config.json": cli_config([
        {**arn, "policy": policy(), "external_id": "ext-" + str(rng.randint(1, 999))}], "r")})
    add("cli RamRoleArn in an STS region", {}, {".aliyun/config.json": cli_config([
        {**arn, "sts_region": rng.choice(["cn-shanghai", "cn-beijing", "ap-southeast-1"])}], "r")})
    add("cli ChainableRamRoleArn", {}, {".aliyun/config.json": cli_config([
        a, {"name": "c", "mode": "ChainableRamRoleArn", "source_profile": "a", "ram_role_arn": role(),
            "ram_session_name": session(), "expired_seconds": 3600}], "c")})
    add("cli OIDC", {}, {".aliyun/config.json": cli_config([{
        "name": "o", "mode": "OIDC", "ram_role_arn": role(), "oidc_provider_arn": "acs:ram::1:oidc-provider/p",
        "oidc_token_file": "{HOME}/oidc-token", "role_session_name": session(), "expired_seconds": 3600}], "o"),
        "oidc-token": "eyJoidc"})
    add("cli profile chosen by ALIBABA_CLOUD_PROFILE", {"ALIBABA_CLOUD_PROFILE": "b"},
        {".aliyun/config.json": cli_config([a, {**a, "name": "b", "access_key_id": key_id(rng)}], "a")})
    external = json.dumps({"mode": "AK", "access_key_id": "EXT." + key_id(rng), "access_key_secret": secret_of(rng)})
    add("cli External", {}, {".aliyun/config.json": cli_config([{
        "name": "x", "mode": "External", "process_command": f"echo '{external}'"}], "x")})
    sso = {"name": "sso", "mode": "CloudSSO", "cloud_sso_sign_in_url": "https://signin.example.com/d-1/login",
           "cloud_sso_account_id": str(rng.randint(10**9, 10**10)), "cloud_sso_access_config": "ac-" + random_bucket(rng),
           "access_token": "sso-" + random_bucket(rng)}
    add("cli CloudSSO", {}, {".aliyun/config.json": cli_config([{**sso, "cloud_sso_access_token_expire": 4102444800}], "sso")})
    add("cli CloudSSO with an expired access token", {}, {".aliyun/config.json": cli_config(
        [{**sso, "cloud_sso_access_token_expire": 1700000000}], "sso")})
    oauth = {"name": "o", "mode": "OAuth", "oauth_site_type": rng.choice(["CN", "INTL"]),
             "oauth_access_token": "old-access", "oauth_refresh_token": "old-refresh"}
    add("cli OAuth, access token expired", {}, {".aliyun/config.json": cli_config(
        [{**oauth, "oauth_access_token_expire": 1700000000}], "o")})
    add("cli OAuth, access token fresh", {}, {".aliyun/config.json": cli_config(
        [{**oauth, "oauth_access_token_expire": 4102444800}], "o")})
    add("cli OAuth, cached STS still valid", {}, {".aliyun/config.json": cli_config(
        [{**oauth, "oauth_access_token_expire": 1700000000, "access_key_id": "CACHED." + key_id(rng),
          "access_key_secret": secret_of(rng), "sts_token": "cached-token", "sts_expiration": 4102444800}], "o")})
    add("cli current names a missing profile", {}, {".aliyun/config.json": cli_config([a], "zz")})
    add("cli malformed json", {}, {".aliyun/config.json": '{"current": "a", "profiles": [ '})
    add("cli disabled, ini used", {"ALIBABA_CLOUD_CLI_PROFILE_DISABLED": "true"},
        {".aliyun/config.json": cli_config([a], "a"),
         ".alibabacloud/credentials.ini": ini({"default": {"type": "access_key", "access_key_id": key_id(rng),
                                                            "access_key_secret": secret_of(rng)}})})
    add("env beats cli", ak(), {".aliyun/config.json": cli_config([a], "a")})
    # credentials.ini.
    sec = {"type": "access_key", "access_key_id": key_id(rng), "access_key_secret": secret_of(rng)}
    add("ini default", {}, {".alibabacloud/credentials.ini": ini({"default": sec})})
    add("ini named by ALIBABA_CLOUD_PROFILE", {"ALIBABA_CLOUD_PROFILE": "team"},
        {".alibabacloud/credentials.ini": ini({"default": sec, "team": {**sec, "access_key_id": key_id(rng)}})})
    add("ini profile missing", {"ALIBABA_CLOUD_PROFILE": "nope"}, {".alibabacloud/credentials.ini": ini({"default": sec})})
    add("ini by ALIBABA_CLOUD_CREDENTIALS_FILE", {"ALIBABA_CLOUD_CREDENTIALS_FILE": "{HOME}/elsewhere.ini"},
        {"elsewhere.ini": ini({"default": sec})})
    add("ini file named but missing", {"ALIBABA_CLOUD_CREDENTIALS_FILE": "{HOME}/missing.ini"}, {})
    add("ini ram_role_arn", {}, {".alibabacloud/credentials.ini": ini({"default": {
        "type": "ram_role_arn", "access_key_id": key_id(rng), "access_key_secret": secret_of(rng),
        "role_arn": role(), "role_session_name": session()}})})
    add("ini ram_role_arn with policy", {}, {".alibabacloud/credentials.ini": ini({"default": {
        "type": "ram_role_arn", "access_key_id": key_id(rng), "access_key_secret": secret_of(rng),
        "role_arn": role(), "role_session_name": session(), "policy": policy()}})})
    add("ini oidc_role_arn", {}, {".alibabacloud/credentials.ini": ini({"default": {
        "type": "oidc_role_arn", "role_arn": role(), "oidc_provider_arn": "acs:ram::1:oidc-provider/p",
        "oidc_token_file_path": "{HOME}/oidc-token", "role_session_name": session()}}), "oidc-token": "eyJini"})
    add("ini keys in capitals and colons", {}, {".alibabacloud/credentials.ini":
        f"[default]\nTYPE: access_key\nAccess_Key_Id: {key_id(rng)}\naccess_key_secret : {secret_of(rng)}\n"})
    add("ini value with an inline #", {}, {".alibabacloud/credentials.ini":
        f"[default]\ntype = access_key\naccess_key_id = {key_id(rng)}\naccess_key_secret = {secret_of(rng)} # comment\n"})
    add("ini duplicate key", {}, {".alibabacloud/credentials.ini":
        f"[default]\ntype = access_key\naccess_key_id = {key_id(rng)}\naccess_key_id = {key_id(rng)}\naccess_key_secret = s\n"})
    add("ini without a section header", {}, {".alibabacloud/credentials.ini": f"access_key_id = {key_id(rng)}\n"})
    add("ini unknown type", {}, {".alibabacloud/credentials.ini": ini({"default": {**sec, "type": "magic"}})})
    add("ini with [DEFAULT]", {}, {".alibabacloud/credentials.ini":
        f"[DEFAULT]\ntype = access_key\naccess_key_secret = {secret_of(rng)}\n\n[default]\naccess_key_id = {key_id(rng)}\n"})
    add("cli beats ini", {}, {".aliyun/config.json": cli_config([a], "a"),
                              ".alibabacloud/credentials.ini": ini({"default": sec})})
    # The credentials URI.
    add("credentials uri", {"ALIBABA_CLOUD_CREDENTIALS_URI": "http://127.0.0.1:9/credentials"})
    add("ini beats credentials uri", {"ALIBABA_CLOUD_CREDENTIALS_URI": "http://127.0.0.1:9/credentials"},
        {".alibabacloud/credentials.ini": ini({"default": sec})})
    return fixtures


def materialize(fixture, home):
    """Writes the fixture's files under `home`; returns its environment."""
    for rel, content in fixture["files"].items():
        path = os.path.join(home, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(content.replace("{HOME}", home))
    env = {k: v.replace("{HOME}", home) for k, v in fixture["env"].items()}
    env.setdefault("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
    env["HOME"] = home
    return env


def suite_credentials(rng):
    import tempfile

    cases, official = [], []
    root = tempfile.mkdtemp(prefix="ecs-assist-credentials-")
    for i, fixture in enumerate(credential_fixtures(rng)):
        # Each side gets its own copy: both may write refreshed tokens back.
        homes = [os.path.join(root, f"home-{i}-{side}") for side in ("official", "ours")]
        for home in homes:
            os.makedirs(home)
        official_env = materialize(fixture, homes[0])
        env = materialize(fixture, homes[1])
        child_env = {"PATH": os.environ.get("PATH", ""), **official_env}
        done = subprocess.run([sys.executable, os.path.abspath(__file__), "--probe-credentials"],
                              env=child_env, capture_output=True, check=False, timeout=60)
        if done.returncode != 0:
            sys.exit(f"the official chain's probe failed on {fixture['name']}: {done.stderr.decode(errors='replace')}")
        official.append(json.loads(done.stdout))
        cases.append({"suite": "credentials", "name": fixture["name"], "env": env})
    return cases, official


def compare_credentials(report, cases, official, ours):
    for case, theirs, mine in zip(cases, official, ours):
        name = case["name"]
        if "error" in theirs or "error" in mine:
            if ("error" in theirs) != ("error" in mine):
                report.differ(f"{name}: only one refuses",
                              f"official {theirs.get('error') or (theirs.get('id'), theirs.get('token'))}; "
                              f"ours {mine.get('error') or (mine.get('id'), mine.get('token'))}")
        elif (theirs["id"], theirs["token"], theirs["secret_sha256"]) != (mine["id"], mine["token"], mine["secret_sha256"]):
            report.differ(f"{name}: credentials", f"official {theirs['id']}/{theirs['token']} ours {mine['id']}/{mine['token']}")
        paths = lambda side: [r["path"] for r in side["requests"] if not r["params"].get("Action")]
        if paths(theirs) != paths(mine):
            report.differ(f"{name}: requests", f"official {paths(theirs)} ours {paths(mine)}")
        sts = lambda side: [r for r in side["requests"] if r["params"].get("Action", "").startswith("AssumeRole")]
        a, b = sts(theirs), sts(mine)
        if len(a) != len(b):
            report.differ(f"{name}: STS requests", f"official {len(a)} ours {len(b)}")
            continue
        for x, y in zip(a, b):
            for param in STS_PARAMS:
                if x["params"].get(param) != y["params"].get(param):
                    report.differ(f"{name}: STS {param}",
                                  f"official {short(x['params'].get(param))} ours {short(y['params'].get(param))}")
            if x["host"] != y["host"]:
                report.differ(f"{name}: STS host", f"official {x['host']} ours {y['host']}")


# ------------------------------------------------------------------- driver

SUITES = {
    # name: (generate(rng) -> (cases, official), compare)
    "sign_v3": (lambda rng: suite_sign_v3(rng, 2000), compare_sign),
    "sign_v1": (lambda rng: suite_sign_v1(rng, 2000), compare_sign_v1),
    "endpoint": (suite_endpoint, compare_endpoint),
    "response": (lambda rng: suite_response(rng, 1000), compare_response),
    "retry": (suite_retry, compare_retry),
    "credentials": (suite_credentials, compare_credentials),
    "sign_oss": (lambda rng: oss_cases(rng, 1000), compare_oss),
}


# The suites the official Node SDK judges too.
NODE_SUITES = ("sign_v3", "sign_v1", "endpoint", "response")


def sabotage(suite, cases, answers):
    """Our answers with one rule broken on purpose (--self-test)."""
    broken = json.loads(json.dumps(answers))
    for answer in broken:
        if suite in ("sign_v3", "sign_v1", "sign_oss"):
            # `~` percent-encoded, as RFC 3986 says it must not be.
            for field in ("canonical", "string_to_sign", "authorization"):
                if field in answer:
                    answer[field] = answer[field].replace("~", "%7E")
        elif suite == "credentials" and answer.get("token"):
            # A token dropped on the way.
            answer["token"] = None
        elif suite == "endpoint" and "host" in answer:
            answer["host"] = answer["host"].replace("ecs-vpc.", "ecs.")
        elif suite == "response":
            for result in answer.get("response", {}).get("Invocation", {}).get("InvocationResults", {}).get("InvocationResult", []):
                if "InstanceId" in result:
                    result["InstanceID"] = result.pop("InstanceId")
    if suite == "retry":
        # A code the core SDK retries, made final.
        for answer, case in zip(broken, cases):
            if case["code"] == "ServiceUnavailable":
                answer["retryable"] = False
    return broken


def main():
    if sys.argv[1:] == ["--probe-credentials"]:
        probe_credentials()
        return
    if sys.argv[1:2] == ["--write-oss-vectors"] and len(sys.argv) == 3:
        write_oss_vectors(sys.argv[2])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("oracle")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--suite", action="append", choices=sorted(SUITES))
    parser.add_argument("--self-test", action="store_true")
    parser.add_argument("--node", metavar="DIR",
                        help="where the official Node SDK is installed (DIR/node_modules): "
                             "sign_v3, sign_v1, endpoint and response are judged by it too")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else int(time.time() * 1000) % 2**32
    print(f"differential suites, seed {seed} (repeat with --seed {seed})")
    allow = load_allow_list(ALLOW_FILE)
    failures = 0
    for name in args.suite or list(SUITES):
        generate, compare = SUITES[name]
        rng = random.Random(f"{seed}-{name}")
        started = time.time()
        cases, official = generate(rng)
        ours = run_oracle(args.oracle, cases)
        report = Report(name, len(cases))
        compare(report, cases, official, ours)
        failures += report.judge(allow)
        if args.node and name in NODE_SUITES:
            node = run_node(args.node, cases)
            if name == "endpoint":
                for answer, theirs in zip(node, official):
                    answer["mapped"] = theirs["mapped"]
            node_report = Report(f"node-{name}", len(cases))
            compare(node_report, cases, node, ours)
            failures += node_report.judge(allow)
        if args.self_test:
            broken = Report(name, len(cases))
            compare(broken, cases, official, sabotage(name, cases, ours))
            caught = broken.judge(allow, quiet=True)
            status = "ok  " if caught else "FAIL"
            print(f"  {status} {name} self-test: a rule broken on purpose gives {caught} differences not allowed")
            if not caught:
                failures += 1
        print(f"       ({time.time() - started:.1f} s)")
    if failures:
        print(f"differential suites: {failures} differences not allowed (seed {seed})")
        sys.exit(1)
    print("differential suites: no difference beyond the allow-list")


if __name__ == "__main__":
    main()
