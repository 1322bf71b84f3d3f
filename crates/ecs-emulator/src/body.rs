//! The emulator's response body: whole, or cut short by the `truncate`
//! fault (used by the API and the OSS service alike).

use std::future::Future as _;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};

/// A response body: whole, or cut short by the `truncate` fault.
#[derive(Debug)]
pub(crate) enum EmuBody {
    Full(Option<Bytes>),
    /// The `truncate` fault: the first half of the body, a pause that lets
    /// hyper put the head and that half on the wire, then an error that
    /// closes the connection before the promised `Content-Length`.
    Truncated {
        half: Option<Bytes>,
        pause: Option<Pin<Box<tokio::time::Sleep>>>,
    },
}

/// How long a truncated body waits after its half before failing.
const TRUNCATE_PAUSE: Duration = Duration::from_millis(20);

impl Body for EmuBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match self.get_mut() {
            Self::Full(data) => Poll::Ready(data.take().map(|d| Ok(Frame::data(d)))),
            Self::Truncated { half, pause } => {
                if let Some(d) = half.take() {
                    return Poll::Ready(Some(Ok(Frame::data(d))));
                }
                let pause =
                    pause.get_or_insert_with(|| Box::pin(tokio::time::sleep(TRUNCATE_PAUSE)));
                match pause.as_mut().poll(cx) {
                    Poll::Pending => Poll::Pending,
                    Poll::Ready(()) => Poll::Ready(Some(Err(std::io::Error::other(
                        "truncate fault: body cut short",
                    )))),
                }
            }
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Self::Full(Some(d)) => SizeHint::with_exact(d.len() as u64),
            _ => SizeHint::default(),
        }
    }
}
