//! [`HyperTransportBuilder`]: timeouts, limits, TLS roots and proxy.

use std::sync::Arc;
use std::time::Duration;

use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;

use super::connector::{ConnectTimeout, ProxyConnector};
use super::{HyperTransport, Inner, Settings};
use crate::{Proxy, TransportError, TransportErrorKind};

/// The default connect timeout (the official SDKs' value).
pub(crate) const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The default time to response headers (the official core SDK's read timeout
/// for `DescribeInvocationResults`).
pub(crate) const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_secs(16);
/// The default whole-request deadline.
pub(crate) const DEFAULT_DEADLINE: Duration = Duration::from_secs(60);
/// The default body limit: a page of 50 results with 24 KB of output each is
/// about 1.7 MB as Base64 JSON; 8 MiB leaves a wide margin.
pub(crate) const DEFAULT_MAX_BODY_SIZE: usize = 8 * 1024 * 1024;
/// How long an idle pooled connection is kept.
const DEFAULT_POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// rustls' *ring* provider: its cipher suites, the X25519, P-256 and P-384
/// key exchanges, and *ring*'s random source and key loading.
///
/// rustls 0.23.48 deprecated `rustls::crypto::ring::default_provider`
/// because *ring* has no post-quantum key exchange (X25519MLKEM768); that
/// provider is aws-lc-rs, a C library this crate leaves out on purpose (no C
/// toolchain to build). Nothing changed in what *ring* offers, so the *ring*
/// provider stays, named in this one place; `allow` (not `expect`) keeps the build warning-free on the locked
/// rustls, where the function is not deprecated, and on the newest.
#[allow(deprecated)]
fn ring_provider() -> rustls::crypto::CryptoProvider {
    rustls::crypto::ring::default_provider()
}

/// Which root certificates a [`HyperTransport`] trusts, before any added with
/// [`HyperTransportBuilder::add_root_certificate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TlsRoots {
    /// Mozilla's root program, compiled in (the `webpki-roots` crate). The
    /// default: it behaves the same on every machine.
    #[default]
    WebPki,
    /// The platform's trust store (needs the `native-roots` feature); use it
    /// where a corporate root is installed on the machine.
    Native,
    /// Both of the above.
    WebPkiAndNative,
    /// None: only the certificates added with
    /// [`add_root_certificate`](HyperTransportBuilder::add_root_certificate).
    Empty,
}

/// Configures and builds a [`HyperTransport`].
///
/// Every setting has a default suited to `DescribeInvocationResults`; see each
/// method.
#[derive(Debug, Clone)]
pub struct HyperTransportBuilder {
    connect_timeout: Duration,
    response_timeout: Duration,
    deadline: Duration,
    max_body_size: usize,
    roots: TlsRoots,
    extra_roots: Vec<Vec<u8>>,
    proxy: Option<Proxy>,
    proxy_from_env: bool,
    https_only: bool,
    http2: bool,
    pool_idle_timeout: Duration,
    pool_max_idle_per_host: usize,
}

impl Default for HyperTransportBuilder {
    fn default() -> Self {
        Self {
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            response_timeout: DEFAULT_RESPONSE_TIMEOUT,
            deadline: DEFAULT_DEADLINE,
            max_body_size: DEFAULT_MAX_BODY_SIZE,
            roots: TlsRoots::default(),
            extra_roots: Vec::new(),
            proxy: None,
            proxy_from_env: true,
            https_only: false,
            http2: true,
            pool_idle_timeout: DEFAULT_POOL_IDLE_TIMEOUT,
            pool_max_idle_per_host: usize::MAX,
        }
    }
}

impl HyperTransportBuilder {
    /// A builder with the default settings.
    pub fn new() -> Self {
        Self::default()
    }

    /// The longest time to open a connection: TCP connect, proxy `CONNECT`
    /// and TLS handshake together. Default 5 s.
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The longest time from sending the request until the response headers
    /// arrive (connecting included). Default 16 s.
    #[must_use]
    pub fn response_timeout(mut self, timeout: Duration) -> Self {
        self.response_timeout = timeout;
        self
    }

    /// The longest time for the whole request: connect, response headers and
    /// the whole body. Default 60 s.
    #[must_use]
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// The largest response body read, in bytes; a larger body (by
    /// `Content-Length`, or found while reading) fails with
    /// [`TransportErrorKind::BodyTooLarge`] and reading stops. Default 8 MiB,
    /// several times a full page of 50 results with 24 KB of output each.
    #[must_use]
    pub fn max_body_size(mut self, bytes: usize) -> Self {
        self.max_body_size = bytes;
        self
    }

    /// Which built-in set of root certificates to trust. Default
    /// [`TlsRoots::WebPki`].
    #[must_use]
    pub fn tls_roots(mut self, roots: TlsRoots) -> Self {
        self.roots = roots;
        self
    }

    /// Also trusts `der`, a DER-encoded root certificate (for a private CA or
    /// a TLS-inspecting corporate proxy). It is checked in
    /// [`build`](Self::build).
    #[must_use]
    pub fn add_root_certificate(mut self, der: impl Into<Vec<u8>>) -> Self {
        self.extra_roots.push(der.into());
        self
    }

    /// Sends requests through `proxy` instead of the one the environment
    /// names.
    #[must_use]
    pub fn proxy(mut self, proxy: Proxy) -> Self {
        self.proxy = Some(proxy);
        self
    }

    /// Ignores `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` (read
    /// by default when no [`proxy`](Self::proxy) is set).
    #[must_use]
    pub fn no_proxy_from_env(mut self) -> Self {
        self.proxy_from_env = false;
        self
    }

    /// Refuses plain `http://` URIs. Off by default so that an explicit local
    /// endpoint (an emulator, a test server) works; clients use `https://`
    /// for every endpoint they resolve themselves.
    #[must_use]
    pub fn https_only(mut self, https_only: bool) -> Self {
        self.https_only = https_only;
        self
    }

    /// Offers HTTP/2 through ALPN on TLS connections. On by default; HTTP/1.1
    /// with keep-alive is used when the server does not choose HTTP/2, and
    /// always on plain `http://`.
    #[must_use]
    pub fn http2(mut self, enabled: bool) -> Self {
        self.http2 = enabled;
        self
    }

    /// How long an idle connection stays in the pool. Default 90 s.
    #[must_use]
    pub fn pool_idle_timeout(mut self, timeout: Duration) -> Self {
        self.pool_idle_timeout = timeout;
        self
    }

    /// The most idle connections kept per host. Default unlimited.
    #[must_use]
    pub fn pool_max_idle_per_host(mut self, max: usize) -> Self {
        self.pool_max_idle_per_host = max;
        self
    }

    /// Builds the transport.
    ///
    /// # Errors
    ///
    /// [`TransportErrorKind::InvalidRequest`] when a proxy URL is not valid,
    /// and [`TransportErrorKind::Tls`] when an added root certificate is not a
    /// valid DER certificate, when the native roots cannot be loaded (or the
    /// `native-roots` feature is off), or when no root is trusted at all.
    pub fn build(self) -> Result<HyperTransport, TransportError> {
        let proxy = match (&self.proxy, self.proxy_from_env) {
            (Some(proxy), _) => proxy.clone(),
            (None, true) => Proxy::from_env(),
            (None, false) => Proxy::new(),
        };
        let matcher = proxy.to_matcher()?.map(Arc::new);

        let roots = self.root_store()?;
        let provider = Arc::new(ring_provider());
        // hyper-rustls sets the ALPN list (h2, http/1.1) from the enabled
        // protocols below, and refuses a config that already has one.
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|err| {
                TransportError::new(
                    TransportErrorKind::Tls,
                    "the TLS provider supports no protocol version",
                )
                .with_source(err)
            })?
            .with_root_certificates(roots)
            .with_no_client_auth();

        let mut http = HttpConnector::new();
        // hyper-rustls hands https URIs to this connector; TLS is its job.
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_keepalive(Some(Duration::from_secs(60)));
        let tcp = ProxyConnector::new(http, matcher.clone());
        let builder = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1();
        let https = if self.http2 {
            builder.enable_http2().wrap_connector(tcp)
        } else {
            builder.wrap_connector(tcp)
        };
        let connector = ConnectTimeout::new(https, self.connect_timeout);

        // No `.timer(..)`: it would arm hyper's own header-read timeout, a
        // second timer per request that the response timeout already covers.
        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(self.pool_idle_timeout)
            .pool_max_idle_per_host(self.pool_max_idle_per_host)
            .build(connector);

        Ok(HyperTransport {
            inner: Arc::new(Inner {
                client,
                proxy: matcher,
                settings: Settings {
                    connect_timeout: self.connect_timeout,
                    response_timeout: self.response_timeout,
                    deadline: self.deadline,
                    max_body_size: self.max_body_size,
                    https_only: self.https_only,
                    http2: self.http2,
                    roots: self.roots,
                    extra_roots: self.extra_roots.len(),
                    proxy,
                },
            }),
        })
    }

    fn root_store(&self) -> Result<RootCertStore, TransportError> {
        let mut store = RootCertStore::empty();
        if matches!(self.roots, TlsRoots::WebPki | TlsRoots::WebPkiAndNative) {
            store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        if matches!(self.roots, TlsRoots::Native | TlsRoots::WebPkiAndNative) {
            add_native_roots(&mut store)?;
        }
        for (index, der) in self.extra_roots.iter().enumerate() {
            store
                .add(CertificateDer::from(der.as_slice()))
                .map_err(|err| {
                    TransportError::new(
                        TransportErrorKind::Tls,
                        format!(
                            "root certificate {} given to add_root_certificate is not a valid \
                             DER certificate: give the DER bytes (a PEM file must be decoded \
                             first)",
                            index + 1
                        ),
                    )
                    .with_source(err)
                })?;
        }
        if store.is_empty() {
            return Err(TransportError::new(
                TransportErrorKind::Tls,
                "no root certificate is trusted, so no TLS server could be verified: use \
                 TlsRoots::WebPki or add a root with add_root_certificate",
            ));
        }
        Ok(store)
    }
}

#[cfg(feature = "native-roots")]
fn add_native_roots(store: &mut RootCertStore) -> Result<(), TransportError> {
    let loaded = rustls_native_certs::load_native_certs();
    let (added, _ignored) = store.add_parsable_certificates(loaded.certs);
    if added == 0 {
        let mut err = TransportError::new(
            TransportErrorKind::Tls,
            "no usable root certificate was found in the platform's trust store: install the \
             CA certificates package, set SSL_CERT_FILE, or use TlsRoots::WebPki",
        );
        if let Some(first) = loaded.errors.into_iter().next() {
            err = err.with_source(first);
        }
        return Err(err);
    }
    Ok(())
}

#[cfg(not(feature = "native-roots"))]
fn add_native_roots(_store: &mut RootCertStore) -> Result<(), TransportError> {
    Err(TransportError::new(
        TransportErrorKind::Tls,
        "the platform's root certificates need the `native-roots` feature of ecs-transport: \
         enable it, or use TlsRoots::WebPki",
    ))
}
