//! NextTokens: opaque, bound to the query's filter, tamper-evident
//! (HMAC-SHA256 with a key derived from the seed), and carrying the
//! position of the next result, which stays valid as results are added.

use base64::Engine as _;
use ring::hmac;

use crate::api_error::ApiError;

/// Bytes of MAC kept in a token.
const TOKEN_MAC: usize = 16;

/// Signs and checks NextTokens.
#[derive(Debug)]
pub(crate) struct Tokens {
    key: hmac::Key,
}

impl Tokens {
    pub(crate) fn new(seed: u64) -> Self {
        let mut material = b"ecs-emulator next-token key ".to_vec();
        material.extend_from_slice(&seed.to_be_bytes());
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, &material),
        }
    }

    fn mac(&self, index: u64, fingerprint: &str) -> hmac::Tag {
        let mut ctx = hmac::Context::with_key(&self.key);
        ctx.update(&index.to_be_bytes());
        ctx.update(fingerprint.as_bytes());
        ctx.sign()
    }

    /// The token of position `index` for the filter `fingerprint`.
    pub(crate) fn encode(&self, index: u64, fingerprint: &str) -> String {
        let mut raw = index.to_be_bytes().to_vec();
        raw.extend_from_slice(&self.mac(index, fingerprint).as_ref()[..TOKEN_MAC]);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
    }

    /// The position a token of the filter `fingerprint` carries.
    pub(crate) fn decode(&self, token: &str, fingerprint: &str) -> Result<u64, ApiError> {
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token)
            .map_err(|_| ApiError::invalid_next_token())?;
        if raw.len() != 8 + TOKEN_MAC {
            return Err(ApiError::invalid_next_token());
        }
        let (index, mac) = raw.split_at(8);
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(index);
        let index = u64::from_be_bytes(bytes);
        let expected = self.mac(index, fingerprint);
        if crate::auth::constant_time_eq(&expected.as_ref()[..TOKEN_MAC], mac) {
            Ok(index)
        } else {
            Err(ApiError::invalid_next_token())
        }
    }
}
