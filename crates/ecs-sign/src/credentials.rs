//! Access key credentials: id, secret and optional STS security token.

use alloc::string::String;
use core::fmt;
use zeroize::Zeroize;

use crate::SignError;
use crate::encoding::is_header_value;

/// An access key id and secret, with an optional STS security token.
///
/// The secret and the token never appear in `Debug` or `Display`, and both
/// are overwritten with zeros when the value is dropped (each clone holds
/// and wipes its own copy).
///
/// ```
/// use ecs_sign::Credentials;
/// let creds = Credentials::new("LTAI5tExample", "example-secret")?
///     .with_security_token("CAIS-example-token")?;
/// assert_eq!(creds.access_key_id(), "LTAI5tExample");
/// assert!(!format!("{creds:?}").contains("example-secret"));
/// # Ok::<(), ecs_sign::SignError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    access_key_id: String,
    access_key_secret: String,
    security_token: Option<String>,
}

/// Whether `s` has whitespace at either end.
fn padded(s: &str) -> bool {
    s.trim() != s
}

impl Credentials {
    /// Builds credentials from an access key id and secret.
    ///
    /// # Errors
    /// [`SignError::is_credentials`] when the id is empty, has whitespace or
    /// control characters, or holds `,` or `;` (it travels in the V3
    /// `Authorization` header); when the secret is empty, has whitespace
    /// at either end (almost always a copy-paste slip) or holds control
    /// characters.
    pub fn new(
        access_key_id: impl Into<String>,
        access_key_secret: impl Into<String>,
    ) -> Result<Self, SignError> {
        let access_key_id = access_key_id.into();
        // Wrap the secret first so it is wiped on every error path too.
        let creds = Self {
            access_key_id,
            access_key_secret: access_key_secret.into(),
            security_token: None,
        };
        if creds.access_key_id.is_empty() {
            return Err(SignError::credentials(
                "access key id",
                "is empty; pass the AccessKeyId of a RAM user or of STS credentials",
            ));
        }
        if !creds
            .access_key_id
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b',' && b != b';')
        {
            return Err(SignError::credentials(
                "access key id",
                "holds whitespace, control characters, `,`, `;` or non-ASCII text; check that it was copied whole",
            ));
        }
        if creds.access_key_secret.is_empty() {
            return Err(SignError::credentials(
                "access key secret",
                "is empty; pass the AccessKeySecret that belongs to the access key id",
            ));
        }
        if padded(&creds.access_key_secret) {
            return Err(SignError::credentials(
                "access key secret",
                "has whitespace at its start or end; check that it was copied without spaces or line breaks",
            ));
        }
        if creds.access_key_secret.chars().any(char::is_control) {
            return Err(SignError::credentials(
                "access key secret",
                "holds control characters; check that it was copied whole",
            ));
        }
        Ok(creds)
    }

    /// Adds an STS security token (V1 sends it as the `SecurityToken`
    /// parameter, V3 as the `x-acs-security-token` header;
    /// docs/api/describe-invocation-results.md#security-token).
    ///
    /// # Errors
    /// [`SignError::is_credentials`] when the token is empty, has whitespace
    /// at either end, or holds control characters.
    pub fn with_security_token(mut self, token: impl Into<String>) -> Result<Self, SignError> {
        self.security_token = Some(token.into());
        let token = self.security_token.as_deref().unwrap_or_default();
        if token.is_empty() {
            return Err(SignError::credentials(
                "security token",
                "is empty; leave it out for a long-term access key",
            ));
        }
        if padded(token) || !is_header_value(token) {
            return Err(SignError::credentials(
                "security token",
                "has whitespace at its ends or control characters; check that it was copied whole",
            ));
        }
        Ok(self)
    }

    /// The access key id.
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// The access key secret, **exposed**: do not log or display it.
    pub fn access_key_secret(&self) -> &str {
        &self.access_key_secret
    }

    /// The STS security token, if any. It is a bearer credential: do not
    /// log or display it.
    pub fn security_token(&self) -> Option<&str> {
        self.security_token.as_deref()
    }
}

impl Drop for Credentials {
    fn drop(&mut self) {
        self.access_key_secret.zeroize();
        self.security_token.zeroize();
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("access_key_secret", &"** redacted **")
            .field(
                "security_token",
                &self.security_token.as_ref().map(|_| "** redacted **"),
            )
            .finish()
    }
}

impl fmt::Display for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "access key {}", self.access_key_id)?;
        if self.security_token.is_some() {
            f.write_str(" (with STS security token)")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::string::ToString;

    const SECRET: &str = "testAccessKeySecret";
    const TOKEN: &str =
        "CAIS+gF1q6Ft5B2yfSjIr5bSEsr/gu1n1vOGaGrw0GE9Zd5/2pWTsjz2IHhMeXJoA+4dsvs=/w";

    #[test]
    fn secret_and_token_never_shown() {
        let c = Credentials::new("testAccessKeyId", SECRET)
            .unwrap()
            .with_security_token(TOKEN)
            .unwrap();
        for text in [format!("{c:?}"), format!("{c:#?}"), c.to_string()] {
            assert!(text.contains("testAccessKeyId"), "{text}");
            assert!(!text.contains(SECRET), "{text}");
            assert!(!text.contains("CAIS"), "{text}");
        }
        assert_eq!(
            c.to_string(),
            "access key testAccessKeyId (with STS security token)"
        );
        assert_eq!(c.access_key_secret(), SECRET);
        assert_eq!(c.security_token(), Some(TOKEN));
        let clone = c.clone();
        drop(c);
        assert_eq!(clone.access_key_secret(), SECRET);
    }

    #[test]
    fn zeroize_on_drop_wipes_the_buffers() {
        // Drop runs `zeroize` on the fields; check the same call wipes them.
        let mut c = Credentials::new("id", SECRET)
            .unwrap()
            .with_security_token(TOKEN)
            .unwrap();
        c.access_key_secret.zeroize();
        c.security_token.zeroize();
        assert!(c.access_key_secret.is_empty());
        assert_eq!(c.security_token, None);
    }

    #[test]
    fn rejects_bad_input_with_the_field_name() {
        let cases: [(&str, &str, &str); 10] = [
            ("", "s", "access key id"),
            ("a b", "s", "access key id"),
            ("a,b", "s", "access key id"),
            ("id\n", "s", "access key id"),
            ("id", "", "access key secret"),
            ("id", " s", "access key secret"),
            // Control characters anywhere in the secret, as in the id.
            ("id", "QzX\u{7}WvY", "access key secret"),
            ("id", "QzX\u{1b}[2JWvY", "access key secret"),
            ("id", "QzX\nWvY", "access key secret"),
            ("id", "QzX\u{7f}WvY", "access key secret"),
        ];
        for (id, secret, field) in cases {
            let e = Credentials::new(id, secret).unwrap_err();
            assert!(e.is_credentials());
            let text = e.to_string();
            assert!(text.contains(field), "{id:?}/{secret:?}: {text}");
            assert!(!text.contains("QzX") && !text.contains("WvY"), "{text}");
        }
        // Other characters stay allowed in a secret.
        assert!(Credentials::new("id", "a b#;,\u{e9}").is_ok());
        let ok = Credentials::new("STS.NUx", "s").unwrap();
        for bad in ["", " t", "a\rb"] {
            let e = ok.clone().with_security_token(bad).unwrap_err();
            assert!(e.to_string().contains("security token"));
        }
    }
}
