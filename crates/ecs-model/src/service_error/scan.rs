//! Best-effort reading of error fields from bodies that are not well-formed
//! documents (the old API reference's JSON error example has no commas;
//! docs/api/describe-invocation-results.md#error-documents), and a
//! readable excerpt of anything else.

use super::ServiceError;

/// Longest value recovered for one field, in bytes.
const FIELD_LIMIT: usize = 512;

/// Most bytes of a malformed body searched for fields: error documents are
/// small, and a large body (an 8 MiB HTML page) must not cost ten scans.
const SCAN_LIMIT: usize = 64 * 1024;

/// Reads `Code`, `Message`, `RequestId`, `HostId` and `Recommend` wherever
/// they appear in the first [`SCAN_LIMIT`] bytes as `"Name": "value"` or
/// `<Name>value</Name>`.
pub(super) fn recover(text: &str) -> ServiceError {
    let text = truncate(text, SCAN_LIMIT);
    let field = |name: &str| {
        json_string_field(text, name)
            .or_else(|| xml_element(text, name))
            .filter(|v| !v.is_empty())
    };
    ServiceError {
        code: field("Code").unwrap_or_default(),
        message: field("Message").unwrap_or_default(),
        request_id: field("RequestId"),
        host_id: field("HostId"),
        recommend: field("Recommend"),
        ..ServiceError::default()
    }
}

/// Finds `"name"` (ASCII case-insensitive) followed by `:` and a string.
fn json_string_field(text: &str, name: &str) -> Option<String> {
    let quoted = format!("\"{name}\"");
    let mut from = 0;
    while let Some(found) = find_ignore_case(&text[from..], &quoted) {
        let after = from + found + quoted.len();
        from = after;
        let rest = text[after..].trim_start();
        let Some(rest) = rest.strip_prefix(':') else {
            continue;
        };
        let Some(rest) = rest.trim_start().strip_prefix('"') else {
            continue;
        };
        return Some(read_json_string(rest));
    }
    None
}

/// The content of a JSON string whose opening quote was consumed, with the
/// common escapes resolved, up to [`FIELD_LIMIT`] bytes.
fn read_json_string(rest: &str) -> String {
    let mut out = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        if out.len() >= FIELD_LIMIT {
            break;
        }
        match c {
            '"' => break,
            '\\' => match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some('u') => {
                    let hex: String = chars.by_ref().take(4).collect();
                    if let Some(c) = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                        out.push(c);
                    }
                }
                Some(other) => out.push(other),
                None => break,
            },
            c => out.push(c),
        }
    }
    out.trim().to_owned()
}

/// The text of `<name>...</name>` (ASCII case-insensitive), up to
/// [`FIELD_LIMIT`] bytes.
fn xml_element(text: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let start = find_ignore_case(text, &open)? + open.len();
    let rest = &text[start..];
    let end = rest.find('<').unwrap_or(rest.len());
    let value = rest[..end].trim();
    Some(truncate(value, FIELD_LIMIT).to_owned())
}

fn find_ignore_case(haystack: &str, needle: &str) -> Option<usize> {
    let (h, n) = (haystack.as_bytes(), needle.as_bytes());
    let (&first, _) = n.split_first()?;
    if h.len() < n.len() {
        return None;
    }
    // `needle` starts with an ASCII byte (`"` or `<`), so a match starts on a
    // char boundary; only positions holding that byte are compared further.
    (0..=h.len() - n.len())
        .filter(|&i| h[i] == first)
        .find(|&i| h[i..i + n.len()].eq_ignore_ascii_case(n))
}

/// At most `limit` bytes of `text`, cut on a character boundary.
pub(super) fn truncate(text: &str, limit: usize) -> &str {
    if text.len() <= limit {
        return text;
    }
    let mut cut = limit;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    &text[..cut]
}

/// A readable start of `text`: markup removed and whitespace collapsed when
/// it looks like HTML/XML, then at most `limit` bytes on a char boundary.
pub(super) fn excerpt(text: &str, limit: usize) -> String {
    let trimmed = text.trim();
    let readable = if trimmed.starts_with('<') {
        let mut out = String::new();
        let mut in_tag = false;
        // Bound the work: markup beyond a few KiB would not reach the excerpt.
        for c in trimmed.chars().take(limit * 16) {
            match c {
                '<' => {
                    in_tag = true;
                    out.push(' ');
                }
                '>' => in_tag = false,
                c if !in_tag => out.push(c),
                _ => {}
            }
        }
        out.split_whitespace().collect::<Vec<_>>().join(" ")
    } else {
        truncate(trimmed, limit * 4)
            .chars()
            .map(|c| if c.is_control() && c != '\n' { ' ' } else { c })
            .collect()
    };
    truncate(&readable, limit).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncate_cuts_on_char_boundaries() {
        assert_eq!(truncate("héllo", 2), "h");
        assert_eq!(truncate("héllo", 3), "hé");
        assert_eq!(truncate("abc", 10), "abc");
    }

    #[test]
    fn html_excerpt_is_readable() {
        let page = "<html><head><title>502 Bad Gateway</title></head>\n<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>";
        assert_eq!(excerpt(page, 512), "502 Bad Gateway 502 Bad Gateway nginx");
        let long = "é".repeat(600);
        let cut = excerpt(&long, 512);
        assert_eq!(cut.len(), 512);
    }

    #[test]
    fn fields_beyond_the_scan_limit_are_not_searched() {
        let near = format!("{}\"Code\": \"Near\"", " ".repeat(100));
        assert_eq!(recover(&near).code, "Near");
        let far = format!("{}\"Code\": \"Far\"", " ".repeat(SCAN_LIMIT));
        assert_eq!(recover(&far).code, "");
    }

    #[test]
    fn recovers_fields_from_json_without_commas() {
        let text = r#"{ "RequestId": "R-1"  "Code": "Bad\"Code" "message":"a\nb" }"#;
        let error = recover(text);
        assert_eq!(error.code, "Bad\"Code");
        assert_eq!(error.message, "a\nb");
        assert_eq!(error.request_id.as_deref(), Some("R-1"));
        assert_eq!(error.host_id, None);
    }
}
