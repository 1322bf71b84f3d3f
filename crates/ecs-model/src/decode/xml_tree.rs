//! A small element tree built with quick-xml. End tags are matched to their
//! start tags without regard to ASCII case (the old API reference closes
//! `<Invokerecordstatus>` with `</invokerecordstatus>`;
//! docs/api/describe-invocation-results.md#tolerance).

use quick_xml::Reader;
use quick_xml::events::Event;

use crate::decode_error::{DecodeError, Position, describe_start};
use crate::format::ResponseFormat;

/// Deepest nesting accepted. The documents have at most 6 levels; the bound
/// keeps hostile bodies from building deep trees.
const MAX_DEPTH: usize = 32;

/// One element: its local name, its text (character data, CDATA and
/// references, concatenated and left untrimmed) and its children.
#[derive(Debug, Default)]
pub(crate) struct Element {
    pub(crate) name: String,
    pub(crate) text: String,
    pub(crate) children: Vec<Element>,
    /// Byte offset of the start tag in the body.
    pub(crate) offset: usize,
}

impl Element {
    /// The first child called `name` (ASCII case-insensitive).
    pub(crate) fn child(&self, name: &str) -> Option<&Element> {
        self.children
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }

    /// Text of the first child called `name`, trimmed; empty is `None`.
    pub(crate) fn child_text(&self, name: &str) -> Option<String> {
        self.child(name)
            .map(|c| c.text.trim())
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
    }
}

/// Parses `body` into its root element.
pub(crate) fn parse(body: &[u8]) -> Result<Element, DecodeError> {
    let text = std::str::from_utf8(body).map_err(|err| {
        DecodeError::malformed(
            ResponseFormat::Xml,
            "the body is not UTF-8 text",
            Position::at_offset(body, err.valid_up_to()),
        )
    })?;
    // A byte-order mark is not markup.
    let bom = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let text = &text[bom..];
    if let Some(i) = text.bytes().position(|b| !b.is_ascii_whitespace())
        && text.as_bytes()[i] != b'<'
    {
        return Err(DecodeError::unexpected(
            ResponseFormat::Xml,
            "an XML document",
            describe_start(body),
            Position::at_offset(body, i + bom),
        ));
    }
    let at = |offset: u64| {
        Position::at_offset(
            body,
            usize::try_from(offset)
                .unwrap_or(usize::MAX)
                .saturating_add(bom),
        )
    };

    let mut reader = Reader::from_str(text);
    let config = reader.config_mut();
    config.check_end_names = false; // Compared below, ignoring case.
    config.trim_text(false);

    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let offset = reader.buffer_position();
        let event = reader.read_event().map_err(|err| {
            DecodeError::malformed(
                ResponseFormat::Xml,
                err.to_string(),
                at(reader.error_position()),
            )
        })?;
        match event {
            Event::Start(start) | Event::Empty(start) if root.is_some() && stack.is_empty() => {
                let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
                return Err(DecodeError::malformed(
                    ResponseFormat::Xml,
                    format!("a second root element `<{name}>` follows the document"),
                    at(offset),
                ));
            }
            Event::Start(start) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(DecodeError::malformed(
                        ResponseFormat::Xml,
                        format!("elements nest deeper than {MAX_DEPTH} levels"),
                        at(offset),
                    ));
                }
                stack.push(Element {
                    name: local_name(start.name().as_ref()),
                    offset: usize::try_from(offset)
                        .unwrap_or(usize::MAX)
                        .saturating_add(bom),
                    ..Element::default()
                });
            }
            Event::Empty(start) => {
                let element = Element {
                    name: local_name(start.name().as_ref()),
                    offset: usize::try_from(offset)
                        .unwrap_or(usize::MAX)
                        .saturating_add(bom),
                    ..Element::default()
                };
                attach(&mut stack, &mut root, element);
            }
            Event::End(end) => {
                let name = local_name(end.name().as_ref());
                let Some(element) = stack.pop() else {
                    return Err(DecodeError::malformed(
                        ResponseFormat::Xml,
                        format!("closing tag `</{name}>` has no opening tag"),
                        at(offset),
                    ));
                };
                if !element.name.eq_ignore_ascii_case(&name) {
                    return Err(DecodeError::malformed(
                        ResponseFormat::Xml,
                        format!(
                            "closing tag `</{name}>` does not match the open element `<{}>`",
                            element.name
                        ),
                        at(offset),
                    ));
                }
                attach(&mut stack, &mut root, element);
            }
            Event::Text(content) => {
                let content = content.decode().map_err(|err| {
                    DecodeError::malformed(ResponseFormat::Xml, err.to_string(), at(offset))
                })?;
                push_text(&mut stack, &content, || at(offset))?;
            }
            Event::CData(content) => {
                let content = content.decode().map_err(|err| {
                    DecodeError::malformed(ResponseFormat::Xml, err.to_string(), at(offset))
                })?;
                push_text(&mut stack, &content, || at(offset))?;
            }
            Event::GeneralRef(reference) => {
                let resolved = resolve_reference(&reference).ok_or_else(|| {
                    DecodeError::malformed(
                        ResponseFormat::Xml,
                        format!(
                            "unknown entity `&{};` (only the XML entities and character references are allowed)",
                            String::from_utf8_lossy(&reference)
                        ),
                        at(offset),
                    )
                })?;
                push_text(&mut stack, resolved.encode_utf8(&mut [0; 4]), || at(offset))?;
            }
            Event::Eof => break,
            // Declarations, processing instructions, comments, DOCTYPE.
            _ => {}
        }
    }
    if let Some(open) = stack.last() {
        return Err(DecodeError::malformed(
            ResponseFormat::Xml,
            format!(
                "the body ({} bytes) ends inside `<{}>`; was it truncated?",
                body.len(),
                open.name
            ),
            Position::at_offset(body, body.len()),
        ));
    }
    root.ok_or_else(|| {
        DecodeError::unexpected(
            ResponseFormat::Xml,
            "an XML document",
            describe_start(body),
            Position::Document,
        )
    })
}

fn local_name(qualified: &[u8]) -> String {
    let local = match qualified.iter().rposition(|&b| b == b':') {
        Some(colon) => &qualified[colon + 1..],
        None => qualified,
    };
    String::from_utf8_lossy(local).into_owned()
}

fn attach(stack: &mut [Element], root: &mut Option<Element>, element: Element) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(element),
        None => *root = Some(element),
    }
}

/// `position` is computed only for an error: it scans the body.
fn push_text(
    stack: &mut [Element],
    content: &str,
    position: impl FnOnce() -> Position,
) -> Result<(), DecodeError> {
    match stack.last_mut() {
        Some(element) => {
            element.text.push_str(content);
            Ok(())
        }
        None if content.trim().is_empty() => Ok(()),
        None => Err(DecodeError::malformed(
            ResponseFormat::Xml,
            format!(
                "text `{}` outside the root element",
                super::fields::excerpt(content.trim())
            ),
            position(),
        )),
    }
}

fn resolve_reference(reference: &quick_xml::events::BytesRef<'_>) -> Option<char> {
    if reference.is_char_ref() {
        return reference.resolve_char_ref().ok().flatten();
    }
    match reference.as_ref() {
        b"amp" => Some('&'),
        b"lt" => Some('<'),
        b"gt" => Some('>'),
        b"quot" => Some('"'),
        b"apos" => Some('\''),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn end_tags_match_without_regard_to_case() {
        let root = parse(b"<A><bB> x </Bb><c/></a>").unwrap();
        assert_eq!(root.name, "A");
        assert_eq!(root.child("BB").unwrap().text, " x ");
        assert!(root.child("C").unwrap().children.is_empty());
    }

    #[test]
    fn references_and_cdata_are_text() {
        let root = parse(b"<a>1 &lt; 2 &amp;&#10;&#x41;<![CDATA[<raw>]]></a>").unwrap();
        assert_eq!(root.text, "1 < 2 &\nA<raw>");
    }

    #[test]
    fn hostile_documents_are_errors_with_positions() {
        let cases: &[(&[u8], &str)] = &[
            (b"<a><b></a>", "does not match"),
            (b"<a>", "ends inside `<a>`"),
            (b"<a></a><b/>", "second root"),
            (b"<a/>hello", "text `hello` outside"),
            (b"<a>&nbsp;</a>", "unknown entity `&nbsp;`"),
            (b"<a>\xff</a>", "not UTF-8"),
            (b"</a>", "does not match"),
        ];
        for (body, fragment) in cases {
            let err = parse(body).unwrap_err();
            assert!(err.is_malformed(), "{err}");
            assert!(err.to_string().contains(fragment), "{err}");
            assert!(
                matches!(err.position(), Some(Position::LineColumn { .. })),
                "{err}"
            );
        }
        let deep = "<a>".repeat(MAX_DEPTH + 1);
        assert!(
            parse(deep.as_bytes())
                .unwrap_err()
                .to_string()
                .contains("deeper")
        );
        assert!(parse(b"").unwrap_err().is_unexpected_document());
    }

    #[test]
    fn positions_after_a_byte_order_mark_count_its_bytes() {
        // The mark is 3 bytes; `x` is the body's sixth byte.
        let err = parse("\u{feff}  x".as_bytes()).unwrap_err();
        assert!(err.is_unexpected_document(), "{err}");
        assert_eq!(
            err.position(),
            Some(Position::LineColumn { line: 1, column: 6 })
        );
        let root = parse("\u{feff}<a>t</a>".as_bytes()).unwrap();
        assert_eq!((root.name.as_str(), root.offset), ("a", 3));
    }

    #[test]
    fn names_lose_their_prefix_and_empty_elements_keep_their_offset() {
        let root = parse(b"<ns:A>\n <x:B>t</x:B><y:C/></ns:A>").unwrap();
        assert_eq!(root.name, "A");
        let b = root.child("B").unwrap();
        assert_eq!((b.text.as_str(), b.offset), ("t", 8));
        assert_eq!(root.child("C").unwrap().offset, 20);
        let empty_root = parse(b"<?xml version=\"1.0\"?>\n<Other/>").unwrap();
        assert_eq!((empty_root.name.as_str(), empty_root.offset), ("Other", 22));
    }
}
