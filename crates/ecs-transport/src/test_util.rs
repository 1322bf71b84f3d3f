//! Test doubles (feature `test-util`): a replaying transport and a capturing
//! one.

mod capture;
mod replay;

use std::sync::{Mutex, MutexGuard, PoisonError};

use bytes::Bytes;

pub use self::capture::CaptureTransport;
pub use self::replay::{ReplayEvent, StaticReplayTransport};

/// Locks `mutex` even if a panicking test thread poisoned it: the doubles'
/// state stays consistent between statements, so the data is still usable.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A copy of `request` (method, URI, version, headers, body); extensions are
/// not copied.
fn copy_request(request: &http::Request<Bytes>) -> http::Request<Bytes> {
    let mut copy = http::Request::new(request.body().clone());
    *copy.method_mut() = request.method().clone();
    *copy.uri_mut() = request.uri().clone();
    *copy.version_mut() = request.version();
    *copy.headers_mut() = request.headers().clone();
    copy
}

/// A response kept as parts, so it can be handed out as a new
/// `http::Response` (which is not `Clone`).
#[derive(Debug, Clone)]
struct StoredResponse {
    status: http::StatusCode,
    version: http::Version,
    headers: http::HeaderMap,
    body: Bytes,
}

impl StoredResponse {
    fn from_response(response: http::Response<Bytes>) -> Self {
        let (parts, body) = response.into_parts();
        Self {
            status: parts.status,
            version: parts.version,
            headers: parts.headers,
            body,
        }
    }

    fn to_response(&self) -> http::Response<Bytes> {
        let mut response = http::Response::new(self.body.clone());
        *response.status_mut() = self.status;
        *response.version_mut() = self.version;
        *response.headers_mut() = self.headers.clone();
        response
    }
}
