//! A small JSON reader over a UTF-8 body, for the direct decoder
//! (`json_direct`). It reads the JSON the service writes and declines
//! (`None`) anything it is unsure of: a control character in a string, a
//! surrogate escape, a fraction, an exponent, a long number, deep nesting,
//! any syntax error. It never accepts what serde_json rejects, so that a
//! declined body can go to the serde decoder, which decides and words the
//! error.

use std::borrow::Cow;
use std::marker::PhantomData;

use super::fields::{FIELD_SLOTS, FieldName, Scalar};

/// The deepest nesting the reader follows. serde_json gives up at 128; the
/// reader declines well before, so that it never accepts a body serde_json
/// would reject for its depth.
const MAX_DEPTH: usize = 64;

/// A position in a JSON text.
pub(crate) struct Reader<'a> {
    text: &'a str,
    pos: usize,
    depth: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `text`.
    pub(crate) fn new(text: &'a str) -> Self {
        Self {
            text,
            pos: 0,
            depth: 0,
        }
    }

    /// Skips JSON whitespace and returns the next byte, without taking it.
    pub(crate) fn peek(&mut self) -> Option<u8> {
        let bytes = self.text.as_bytes();
        while let Some(&byte) = bytes.get(self.pos) {
            if !matches!(byte, b' ' | b'\n' | b'\t' | b'\r') {
                return Some(byte);
            }
            self.pos += 1;
        }
        None
    }

    /// Whether only whitespace is left.
    pub(crate) fn at_end(&mut self) -> bool {
        self.peek().is_none()
    }

    /// Takes `byte` after any whitespace.
    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.pos += 1)
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Reads an object whose keys are fields of `F`, calling `member` with
    /// each field, the reader at the member's value, which `member` must
    /// read. `order` remembers the order of the keys for the next object.
    pub(crate) fn object<F: FieldName>(
        &mut self,
        order: &mut KeyOrder<F>,
        member: impl FnMut(&mut Self, F) -> Option<()>,
    ) -> Option<()> {
        let mut previous = None;
        self.members(
            |reader| {
                let field = reader.field(order, previous)?;
                previous = Some(field);
                Some(field)
            },
            member,
        )
    }

    /// Reads an object: `key` reads each key, `member` its value.
    fn members<K>(
        &mut self,
        mut key: impl FnMut(&mut Self) -> Option<K>,
        mut member: impl FnMut(&mut Self, K) -> Option<()>,
    ) -> Option<()> {
        self.sequence(b'{', b'}', |reader| {
            let key = key(reader)?;
            reader.eat(b':')?;
            member(reader, key)
        })
    }

    /// Reads `open`, then `item`s separated by commas, then `close` (an
    /// object's members or an array's elements).
    #[inline]
    fn sequence(
        &mut self,
        open: u8,
        close: u8,
        mut item: impl FnMut(&mut Self) -> Option<()>,
    ) -> Option<()> {
        self.eat(open)?;
        self.enter()?;
        if self.peek()? == close {
            self.pos += 1;
        } else {
            loop {
                item(self)?;
                match self.peek()? {
                    b',' => self.pos += 1,
                    next if next == close => {
                        self.pos += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        self.leave();
        Some(())
    }

    /// Reads a key as a field of `F`. The key that followed `previous` in
    /// the last object is compared whole first; only another key is scanned
    /// and looked up.
    #[inline]
    fn field<F: FieldName>(&mut self, order: &mut KeyOrder<F>, previous: Option<F>) -> Option<F> {
        let slot = previous.map_or(0, |field| field.index() + 1);
        self.peek()?;
        let guess = usize::from(order.after[slot]).checked_sub(1);
        if let Some(guess) = guess
            && let (Some(&field), Some(name)) = (F::KNOWN.get(guess), F::SPELLINGS.get(guess))
            && self.take_quoted(name.as_bytes())
        {
            return Some(field);
        }
        let field = match self.plain_string() {
            Some(key) => F::lookup(key),
            None => F::lookup(&self.escaped_string()?),
        };
        // `Other` (past the known fields) is not kept.
        order.after[slot] = match field.index() {
            known if known < F::KNOWN.len() => u8::try_from(known + 1).unwrap_or(0),
            _ => 0,
        };
        Some(field)
    }

    /// Takes `"name"` if it comes next (whitespace skipped), exactly so
    /// written.
    #[inline]
    fn take_quoted(&mut self, name: &[u8]) -> bool {
        let start = self.pos;
        let end = start + name.len() + 2;
        let found = self.text.as_bytes().get(start..end).is_some_and(|quoted| {
            quoted[0] == b'"'
                && quoted[quoted.len() - 1] == b'"'
                && same_bytes(&quoted[1..quoted.len() - 1], name)
        });
        if found {
            self.pos = end;
        }
        found
    }

    /// Reads an array, calling `element` with the reader at each element,
    /// which `element` must read.
    pub(crate) fn array(&mut self, element: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.sequence(b'[', b']', element)
    }

    /// Reads a string, borrowed from the text when it has no escapes.
    pub(crate) fn string(&mut self) -> Option<Cow<'a, str>> {
        match self.plain_string() {
            Some(text) => Some(Cow::Borrowed(text)),
            None => self.escaped_string().map(Cow::Owned),
        }
    }

    /// Reads a string that has no escapes; `None`, without moving, for any
    /// other string or value. Separate from [`Self::escaped_string`] so that
    /// the common case returns a plain `&str`, in registers (returning a
    /// `Cow` through memory cost about a tenth of a page's time).
    #[inline]
    fn plain_string(&mut self) -> Option<&'a str> {
        if self.peek()? != b'"' {
            return None;
        }
        let bytes = self.text.as_bytes();
        let start = self.pos + 1;
        let end = start + find_special(bytes.get(start..)?)?;
        if bytes[end] != b'"' {
            return None;
        }
        self.pos = end + 1;
        self.text.get(start..end)
    }

    /// Reads a string with escapes, decoding them.
    #[inline(never)]
    fn escaped_string(&mut self) -> Option<String> {
        self.eat(b'"')?;
        let bytes = self.text.as_bytes();
        let start = self.pos;
        let mut at = start + find_special(bytes.get(start..)?)?;
        if bytes[at] != b'\\' {
            return None;
        }
        let mut out = String::with_capacity(at - start + 16);
        out.push_str(self.text.get(start..at)?);
        loop {
            // `bytes[at]` is a backslash.
            let escape = *bytes.get(at + 1)?;
            at += 2;
            out.push(match escape {
                b'"' => '"',
                b'\\' => '\\',
                b'/' => '/',
                b'b' => '\u{8}',
                b'f' => '\u{c}',
                b'n' => '\n',
                b'r' => '\r',
                b't' => '\t',
                b'u' => {
                    let code = hex4(bytes.get(at..at + 4)?)?;
                    at += 4;
                    // Surrogates (pairs or not) are left to serde_json.
                    char::from_u32(code)?
                }
                _ => return None,
            });
            let run = find_special(bytes.get(at..)?)?;
            out.push_str(self.text.get(at..at + run)?);
            at += run;
            match bytes[at] {
                b'"' => {
                    self.pos = at + 1;
                    return Some(out);
                }
                b'\\' => {}
                _ => return None,
            }
        }
    }

    /// Reads a string, number, boolean or `null`. Numbers are integers of
    /// at most 18 digits (anything longer, a fraction or an exponent is
    /// declined).
    // Always inlined: a `Scalar` returned through memory is read back wider
    // than it was written, which stalls (several percent of a page's time).
    #[inline(always)]
    pub(crate) fn scalar(&mut self) -> Option<Scalar<'a>> {
        match self.peek()? {
            b'"' => self.string().map(Scalar::Str),
            b'-' | b'0'..=b'9' => self.integer().map(Scalar::Int),
            b't' => self.literal(b"true").map(|()| Scalar::Bool(true)),
            b'f' => self.literal(b"false").map(|()| Scalar::Bool(false)),
            b'n' => self.null().map(|()| Scalar::Null),
            _ => None,
        }
    }

    /// Takes `null`.
    pub(crate) fn null(&mut self) -> Option<()> {
        self.peek()?;
        self.literal(b"null")
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let rest = self.text.as_bytes().get(self.pos..)?;
        rest.starts_with(word).then(|| self.pos += word.len())
    }

    /// An integer without fraction or exponent, of at most 18 digits (which
    /// cannot overflow).
    fn integer(&mut self) -> Option<i64> {
        let bytes = self.text.as_bytes();
        let negative = bytes.get(self.pos) == Some(&b'-');
        let start = self.pos + usize::from(negative);
        let digits = bytes
            .get(start..)?
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        let leading_zero = digits > 1 && bytes[start] == b'0';
        if digits == 0 || digits > 18 || leading_zero {
            return None;
        }
        let end = start + digits;
        if matches!(bytes.get(end), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        let value = bytes[start..end]
            .iter()
            .fold(0i64, |acc, b| acc * 10 + i64::from(b - b'0'));
        self.pos = end;
        Some(if negative { -value } else { value })
    }

    /// Skips a number of any form (`-`, integer part, fraction, exponent),
    /// checked against the JSON grammar.
    fn number(&mut self) -> Option<()> {
        let bytes = self.text.as_bytes();
        let digits_from = |at: usize| {
            bytes.get(at..).map_or(0, |rest| {
                rest.iter().take_while(|b| b.is_ascii_digit()).count()
            })
        };
        let mut at = self.pos + usize::from(bytes.get(self.pos) == Some(&b'-'));
        let whole = digits_from(at);
        if whole == 0 || (whole > 1 && bytes[at] == b'0') {
            return None;
        }
        at += whole;
        if bytes.get(at) == Some(&b'.') {
            let fraction = digits_from(at + 1);
            if fraction == 0 {
                return None;
            }
            at += 1 + fraction;
        }
        if matches!(bytes.get(at), Some(b'e' | b'E')) {
            at += 1;
            if matches!(bytes.get(at), Some(b'+' | b'-')) {
                at += 1;
            }
            let exponent = digits_from(at);
            if exponent == 0 {
                return None;
            }
            at += exponent;
        }
        self.pos = at;
        Some(())
    }

    /// Skips one value of any kind.
    pub(crate) fn skip(&mut self) -> Option<()> {
        match self.peek()? {
            b'{' => self.members(
                |reader| reader.string().map(drop),
                |reader, ()| reader.skip(),
            ),
            b'[' => self.array(Self::skip),
            b'"' => self.string().map(drop),
            b'-' | b'0'..=b'9' => self.number(),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => None,
        }
    }
}

/// For each field of a kind of object, the key that followed it in the
/// last such object read (the service writes every object of a kind with
/// its keys in the same order), so that [`Reader::object`] can compare the
/// next object's keys whole instead of scanning and looking them up.
pub(crate) struct KeyOrder<F> {
    /// Slot 0: the first key; slot `i + 1`: the key after the field of
    /// index `i`. A key is kept as its index + 1; 0 when none is known.
    after: [u8; FIELD_SLOTS + 1],
    _fields: PhantomData<F>,
}

impl<F: FieldName> KeyOrder<F> {
    /// No order known yet.
    pub(crate) fn new() -> Self {
        Self {
            after: [0; FIELD_SLOTS + 1],
            _fields: PhantomData,
        }
    }
}

/// Whether `a` and `b` are equal, compared a word at a time without a call
/// (field names are 3 to 18 bytes long).
#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let len = a.len();
    if len != b.len() {
        return false;
    }
    if len < 4 {
        return a.iter().zip(b).all(|(x, y)| x == y);
    }
    if len < 8 {
        // Two words that overlap cover the whole.
        return word4(a, 0) == word4(b, 0) && word4(a, len - 4) == word4(b, len - 4);
    }
    let mut at = 0;
    while at + 8 < len {
        if word8(a, at) != word8(b, at) {
            return false;
        }
        at += 8;
    }
    word8(a, len - 8) == word8(b, len - 8)
}

fn word4(bytes: &[u8], at: usize) -> u32 {
    let mut word = [0; 4];
    word.copy_from_slice(&bytes[at..at + 4]);
    u32::from_ne_bytes(word)
}

fn word8(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0; 8];
    word.copy_from_slice(&bytes[at..at + 8]);
    u64::from_ne_bytes(word)
}

/// The value of four hex digits.
fn hex4(digits: &[u8]) -> Option<u32> {
    digits.iter().try_fold(0u32, |acc, &b| {
        let digit = char::from(b).to_digit(16)?;
        Some(acc * 16 + digit)
    })
}

/// The offset of the first `"`, `\` or control character in `bytes`,
/// eight bytes at a time.
#[inline]
fn find_special(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const QUOTES: u64 = ONES * b'"' as u64;
    const BACKSLASHES: u64 = ONES * b'\\' as u64;
    let mut chunks = bytes.chunks_exact(8);
    let mut offset = 0;
    for chunk in &mut chunks {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        let word = u64::from_le_bytes(word);
        // A byte's high bit is set where it is below 0x20 or equal to
        // `"` or `\` (the classic "has a zero byte" test); a borrow can only
        // mark bytes above a real match, so the lowest mark is exact. Bytes
        // of 0x80 and above (`!word`) never match.
        let quote = word ^ QUOTES;
        let backslash = word ^ BACKSLASHES;
        let marks = (word.wrapping_sub(ONES * 0x20)
            | quote.wrapping_sub(ONES)
            | backslash.wrapping_sub(ONES))
            & !word
            & HIGH;
        if marks != 0 {
            return Some(offset + (marks.trailing_zeros() / 8) as usize);
        }
        offset += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
        .map(|at| offset + at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn finds_the_first_quote_backslash_or_control_character() {
        assert_eq!(find_special(b""), None);
        assert_eq!(find_special(b"abc"), None);
        assert_eq!(find_special(b"0123456789abcdef"), None);
        assert_eq!(find_special(b"ab\"c"), Some(2));
        assert_eq!(find_special(b"0123456789\\"), Some(10));
        assert_eq!(find_special(b"01234567\x1f\""), Some(8));
        // A control character after a quote in the same word: the quote.
        assert_eq!(find_special(b"0\"\x00"), Some(1));
        assert_eq!(find_special(b"\x00\"\\xxxxxxxx"), Some(0));
        // Bytes of 0x80 and above (UTF-8) are text.
        assert_eq!(find_special("é中文時間ab\"".as_bytes()), Some(16));
        assert_eq!(find_special(b"\x7f\x20\x21\x23\x5b\x5d\xff\xa2\""), Some(8));
        // Each kind within a word and in the tail, after other bytes (a
        // wrong mask constant or offset shows only there).
        assert_eq!(find_special(b"0123\"567"), Some(4));
        assert_eq!(find_special(b"0123\\567"), Some(4));
        assert_eq!(find_special(b"abcdefg\x1f"), Some(7));
        assert_eq!(find_special(b"a b c d e f\""), Some(11));
        assert_eq!(find_special(b"a b\""), Some(3));
        assert_eq!(find_special(b"ab\\\""), Some(2));
    }

    proptest! {
        #[test]
        fn same_bytes_agrees_with_slice_equality(
            a in proptest::collection::vec(0..3u8, 0..24),
            b in proptest::collection::vec(0..3u8, 0..24),
        ) {
            prop_assert_eq!(same_bytes(&a, &b), a == b);
            prop_assert!(same_bytes(&a, &a));
            // One byte changed anywhere is seen.
            for at in 0..a.len() {
                let mut c = a.clone();
                c[at] ^= 0x80;
                prop_assert!(!same_bytes(&a, &c));
            }
        }

        #[test]
        fn find_special_agrees_with_a_byte_loop(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            let expected = bytes.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20);
            prop_assert_eq!(find_special(&bytes), expected);
        }
    }

    #[test]
    fn take_quoted_takes_only_the_exact_quoted_name() {
        let mut reader = Reader::new(r#" "TagValue" :1"#);
        reader.peek();
        assert!(reader.take_quoted(b"TagValue"));
        assert_eq!(reader.pos, 11, "the reader is past the closing quote");
        assert_eq!(reader.eat(b':'), Some(()));
        // Anything else is not taken, and the reader does not move.
        for (text, name) in [
            (r#""TagValue":1"#, "TagValuf"),
            (r#""TagValuf":1"#, "TagValue"),
            (r#""tagvalue":1"#, "TagValue"),
            (r#""TagValueX":1"#, "TagValue"),
            (r#""TagValu":1"#, "TagValue"),
            (r#"'TagValue':1"#, "TagValue"),
            (r#""TagValue'1"#, "TagValue"),
            (r#""TagValue"#, "TagValue"),
            (r#"TagValue""#, "TagValue"),
            (r#""Key":1"#, "Kex"),
            (r#""Kex":1"#, "Key"),
        ] {
            let mut reader = Reader::new(text);
            assert!(!reader.take_quoted(name.as_bytes()), "{text} as {name}");
            assert_eq!(reader.pos, 0, "{text} as {name}");
        }
    }

    #[test]
    fn objects_learn_the_order_of_their_known_keys() {
        use crate::decode::fields::TagField::{self, Other, TagKey, TagValue};
        fn read(text: &str, order: &mut KeyOrder<TagField>) -> Option<Vec<TagField>> {
            let mut fields = Vec::new();
            let mut reader = Reader::new(text);
            reader.object(order, |reader, field| {
                fields.push(field);
                reader.skip()
            })?;
            reader.at_end().then_some(fields)
        }
        let mut order = KeyOrder::new();
        let text = r#"{"TagKey":"k","Zzz":0,"TagValue":"v"}"#;
        assert_eq!(read(text, &mut order), Some(vec![TagKey, Other, TagValue]));
        // Slot 0: the first key; slot `i + 1`: the key after field `i`,
        // kept as its index + 1. The unknown key after `TagKey` is not kept;
        // `TagValue` is kept after it (slot of `Other`, index 4).
        let mut expected = [0; FIELD_SLOTS + 1];
        expected[0] = 1;
        expected[Other.index() + 1] = 2;
        assert_eq!(order.after, expected);
        // The same object again is read alike (its keys as guessed), and
        // one in another order too, which is learned in turn.
        assert_eq!(read(text, &mut order), Some(vec![TagKey, Other, TagValue]));
        assert_eq!(order.after, expected);
        let text = r#"{"TagValue":"v","TagKey":"k"}"#;
        assert_eq!(read(text, &mut order), Some(vec![TagValue, TagKey]));
        expected[0] = 2;
        expected[TagValue.index() + 1] = 1;
        assert_eq!((TagKey.index(), TagValue.index()), (0, 1));
        assert_eq!(order.after, expected);
    }

    #[test]
    fn values_side_by_side_do_not_add_to_the_depth() {
        // A page holds far more objects than `MAX_DEPTH`, one after another.
        for text in [
            format!("[{}]", vec!["[]"; 3 * MAX_DEPTH].join(",")),
            format!("[{}]", vec![r#"{"a":{}}"#; 3 * MAX_DEPTH].join(",")),
        ] {
            let mut reader = Reader::new(&text);
            assert_eq!(reader.skip(), Some(()), "{text}");
            assert!(reader.at_end());
        }
    }

    #[test]
    fn strings_decode_escapes_and_decline_what_serde_json_decides() {
        fn read(json: &str) -> Option<String> {
            Reader::new(json).string().map(Cow::into_owned)
        }
        assert_eq!(read(r#""plain""#).as_deref(), Some("plain"));
        assert_eq!(
            read(r#""a\"b\\c\/d\b\f\n\r\t\u00e9\u4E2D""#).as_deref(),
            Some("a\"b\\c/d\u{8}\u{c}\n\r\té中")
        );
        assert_eq!(read(r#""\u0000""#).as_deref(), Some("\0"));
        for declined in [
            "\"a\u{1}\"",
            r#""\ud83d\ude00""#,
            r#""\ude00""#,
            r#""\x""#,
            r#""\u12""#,
            r#""\u12g4""#,
            r#""unterminated"#,
            r#""ends in \"#,
            "\"tab\tinside\"",
        ] {
            assert_eq!(read(declined), None, "{declined}");
        }
    }

    #[test]
    fn scalars_are_integers_strings_booleans_and_null() {
        fn read(json: &str) -> Option<String> {
            let mut reader = Reader::new(json);
            let scalar = reader.scalar()?;
            reader.at_end().then(|| format!("{scalar:?}"))
        }
        assert_eq!(read("0").as_deref(), Some("Int(0)"));
        assert_eq!(read("-0").as_deref(), Some("Int(0)"));
        assert_eq!(read(" -42 ").as_deref(), Some("Int(-42)"));
        assert_eq!(
            read("999999999999999999").as_deref(),
            Some("Int(999999999999999999)")
        );
        assert_eq!(read("true").as_deref(), Some("Bool(true)"));
        assert_eq!(read("false").as_deref(), Some("Bool(false)"));
        assert_eq!(read("null").as_deref(), Some("Null"));
        for declined in [
            "01",
            "-",
            "1.5",
            "1e3",
            "1E3",
            "9999999999999999999",
            "nul",
            "True",
            "{}",
            "[]",
        ] {
            assert_eq!(read(declined), None, "{declined}");
        }
    }

    #[test]
    fn skips_valid_values_and_declines_invalid_ones() {
        fn skip(json: &str) -> bool {
            let mut reader = Reader::new(json);
            reader.skip().is_some() && reader.at_end()
        }
        for valid in [
            r#"{"a":[1,-2.5e+3,0.0,1E9,true,false,null,"x\n",{}],"b":{"c":[]}}"#,
            " [ ] ",
            "-0.0e-0",
        ] {
            assert!(skip(valid), "{valid}");
        }
        for invalid in [
            "[1,]",
            r#"{"a":1,}"#,
            r#"{"a" 1}"#,
            r#"{a:1}"#,
            "[1 2]",
            "1.",
            ".5",
            "1e",
            "-a",
            "00",
            "[",
            "",
        ] {
            assert!(!skip(invalid), "{invalid}");
        }
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert!(!skip(&deep), "nesting deeper than MAX_DEPTH is declined");
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(skip(&ok));
    }
}
