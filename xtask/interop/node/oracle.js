// The official Node SDK's answers to the differential suites' cases: a
// second official implementation beside the Python SDKs.
//
// Reads the cases (the JSON lines that interop-oracle reads) on stdin and
// writes one JSON answer a line, shaped like the Python side's official
// answers: sign_v3 and sign_v1 through @alicloud/openapi-core's Utils (the
// code @alicloud/openapi-client 0.4 runs), endpoint through the ECS client's
// getEndpoint, response through the ECS model's $dara.cast.
'use strict';

const crypto = require('crypto');
const readline = require('readline');
const Utils = require('@alicloud/openapi-core/dist/utils').default;
const $dara = require('@darabonba/typescript');
const Ecs = require('@alicloud/ecs20140526');

// What the official code hashes and signs, seen by wrapping its primitives.
let seen = [];
const originalHash = Utils.hash;
Utils.hash = (raw, algorithm) => {
  seen.push({ canonical: raw.toString('utf8') });
  return originalHash(raw, algorithm);
};
const originalSignatureMethod = Utils.signatureMethod;
Utils.signatureMethod = (secret, source, algorithm) => {
  seen.push({ string_to_sign: source });
  return originalSignatureMethod(secret, source, algorithm);
};
const originalCreateHmac = crypto.createHmac;
crypto.createHmac = (algorithm, key) => {
  const hmac = originalCreateHmac(algorithm, key);
  const update = hmac.update.bind(hmac);
  hmac.update = (data) => {
    seen.push({ string_to_sign: data.toString() });
    return update(data);
  };
  return hmac;
};

function pairsToObject(pairs) {
  const out = {};
  for (const [k, v] of pairs) out[k] = v;
  return out;
}

function signV3(c) {
  seen = [];
  const request = {
    method: c.method,
    pathname: c.path,
    query: pairsToObject(c.query),
    headers: pairsToObject(c.headers),
  };
  const payload = crypto.createHash('sha256').update(Buffer.from(c.body, 'utf8')).digest('hex');
  const authorization = Utils.getAuthorization(request, 'ACS3-HMAC-SHA256', payload, c.key_id, c.secret);
  const canonical = seen.find((s) => 'canonical' in s).canonical;
  const stringToSign = seen.filter((s) => 'string_to_sign' in s).pop().string_to_sign;
  return {
    canonical,
    string_to_sign: stringToSign,
    signature: authorization.split('Signature=').pop(),
    authorization,
  };
}

function signV1(c) {
  seen = [];
  const signature = Utils.getRPCSignature(pairsToObject(c.params), c.method, c.secret);
  const stringToSign = seen.filter((s) => 'string_to_sign' in s).pop().string_to_sign;
  return { string_to_sign: stringToSign, signature };
}

function endpoint(c) {
  const config = new (require('@alicloud/openapi-client').Config)({
    accessKeyId: 'id',
    accessKeySecret: 'secret',
    regionId: c.region,
    network: c.network,
  });
  const client = new Ecs.default(config);
  return { tea: client._endpoint };
}

function response(c) {
  try {
    const body = $dara.cast(JSON.parse(c.body), new Ecs.DescribeInvocationResultsResponseBody({}));
    return $dara.toMap(body);
  } catch (err) {
    return { error: String(err.message || err) };
  }
}

const answer = { sign_v3: signV3, sign_v1: signV1, endpoint, response };

const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
const out = [];
lines.on('line', (line) => {
  if (!line.trim()) return;
  const c = JSON.parse(line);
  const f = answer[c.suite];
  out.push(JSON.stringify(f ? f(c) : { unsupported: c.suite }));
});
lines.on('close', () => {
  process.stdout.write(out.join('\n') + (out.length ? '\n' : ''));
});
