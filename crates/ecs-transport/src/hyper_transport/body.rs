//! Reading a response body completely, but never past a size limit.

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;

/// Why a body could not be read.
#[derive(Debug)]
pub(crate) enum BodyError<E> {
    /// The body is larger than the limit (announced by `Content-Length`, or
    /// found while reading).
    TooLarge,
    /// The body stream failed (connection closed or reset mid-body).
    Read(E),
}

/// Reads `body` to the end, stopping with [`BodyError::TooLarge`] as soon as
/// more than `limit` bytes arrive.
///
/// A body that arrives as one frame (the common case for small responses) is
/// returned without copying.
pub(crate) async fn read_limited<B>(
    mut body: B,
    content_length: Option<u64>,
    limit: usize,
) -> Result<Bytes, BodyError<B::Error>>
where
    B: hyper::body::Body<Data = Bytes> + Unpin,
{
    if content_length.is_some_and(|len| len > limit as u64) {
        return Err(BodyError::TooLarge);
    }
    let mut first: Option<Bytes> = None;
    let mut rest: Option<BytesMut> = None;
    let mut total: usize = 0;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(BodyError::Read)?;
        // Trailers carry nothing this API uses.
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if data.is_empty() {
            continue;
        }
        total = total.saturating_add(data.len());
        if total > limit {
            return Err(BodyError::TooLarge);
        }
        match (&mut first, &mut rest) {
            (None, _) => first = Some(data),
            (Some(head), None) => {
                let capacity = content_length
                    .and_then(|len| usize::try_from(len).ok())
                    .unwrap_or(0)
                    .max(head.len() + data.len())
                    .min(limit);
                let mut buf = BytesMut::with_capacity(capacity);
                buf.extend_from_slice(head);
                buf.extend_from_slice(&data);
                rest = Some(buf);
            }
            (Some(_), Some(buf)) => buf.extend_from_slice(&data),
        }
    }
    Ok(match (first, rest) {
        (_, Some(buf)) => buf.freeze(),
        (Some(head), None) => head,
        (None, None) => Bytes::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::body::Frame;
    use std::collections::VecDeque;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    /// A body that yields the given chunks, then ends.
    struct Chunks(VecDeque<Result<Bytes, std::io::Error>>);

    impl hyper::body::Body for Chunks {
        type Data = Bytes;
        type Error = std::io::Error;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
            Poll::Ready(self.0.pop_front().map(|chunk| chunk.map(Frame::data)))
        }
    }

    fn chunks(parts: &[&'static [u8]]) -> Chunks {
        Chunks(parts.iter().map(|p| Ok(Bytes::from_static(p))).collect())
    }

    fn run<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn single_frame_is_returned_as_is() {
        let data: &'static [u8] = b"hello";
        let body = run(read_limited(chunks(&[data]), Some(5), 5)).unwrap();
        assert_eq!(body.as_ptr(), data.as_ptr(), "no copy for one frame");
    }

    #[test]
    fn frames_are_concatenated_up_to_the_limit() {
        let body = run(read_limited(chunks(&[b"ab", b"", b"cd", b"e"]), None, 5)).unwrap();
        assert_eq!(body.as_ref(), b"abcde");
        assert!(run(read_limited(chunks(&[]), None, 5)).unwrap().is_empty());
    }

    #[test]
    fn over_the_limit_while_reading() {
        let err = run(read_limited(chunks(&[b"abc", b"def"]), None, 5)).unwrap_err();
        assert!(matches!(err, BodyError::TooLarge));
    }

    #[test]
    fn over_the_limit_by_content_length_without_reading() {
        // The body itself would fit: the announced length alone refuses it.
        let err = run(read_limited(chunks(&[b"a"]), Some(6), 5)).unwrap_err();
        assert!(matches!(err, BodyError::TooLarge));
    }

    #[test]
    fn read_errors_are_passed_on() {
        let mut body = chunks(&[b"abc"]);
        body.0.push_back(Err(std::io::Error::from(
            std::io::ErrorKind::ConnectionReset,
        )));
        let err = run(read_limited(body, None, 100)).unwrap_err();
        match err {
            BodyError::Read(err) => assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset),
            BodyError::TooLarge => panic!("expected a read error"),
        }
    }
}
