//! Parameters to sign, as the caller holds them: `&str` pairs or `String`
//! pairs (what `ecs_model`'s `to_query()` returns), without a copy.

use alloc::string::String;
use alloc::vec::Vec;

/// API parameters to sign, borrowed from the caller: pairs of `&str` or of
/// `String` (what `ecs_model`'s `to_query()` returns), as a slice, an array
/// of `&str` pairs or a `Vec`.
///
/// ```
/// use ecs_sign::ParamList;
///
/// let owned: Vec<(String, String)> = vec![("RegionId".into(), "cn-hangzhou".into())];
/// let borrowed = [("RegionId", "cn-hangzhou")];
/// let (a, b) = (ParamList::from(&owned), ParamList::from(&borrowed));
/// assert!(a.iter().eq(b.iter()));
/// assert_eq!(ParamList::from(&[]).len(), 0);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct ParamList<'a>(Pairs<'a>);

/// The pairs as one of the two slices, the other empty.
type BothForms<'a> = (&'a [(&'a str, &'a str)], &'a [(String, String)]);

#[derive(Debug, Clone, Copy)]
enum Pairs<'a> {
    Borrowed(&'a [(&'a str, &'a str)]),
    Owned(&'a [(String, String)]),
}

impl<'a> ParamList<'a> {
    /// The pairs, in the caller's order.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        let (borrowed, owned): BothForms<'a> = match self.0 {
            Pairs::Borrowed(pairs) => (pairs, &[]),
            Pairs::Owned(pairs) => (&[], pairs),
        };
        borrowed
            .iter()
            .copied()
            .chain(owned.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }

    /// How many pairs there are.
    pub fn len(&self) -> usize {
        match self.0 {
            Pairs::Borrowed(pairs) => pairs.len(),
            Pairs::Owned(pairs) => pairs.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Default for ParamList<'_> {
    fn default() -> Self {
        Self(Pairs::Borrowed(&[]))
    }
}

impl<'a> From<&'a [(&'a str, &'a str)]> for ParamList<'a> {
    fn from(pairs: &'a [(&'a str, &'a str)]) -> Self {
        Self(Pairs::Borrowed(pairs))
    }
}

impl<'a, const N: usize> From<&'a [(&'a str, &'a str); N]> for ParamList<'a> {
    fn from(pairs: &'a [(&'a str, &'a str); N]) -> Self {
        Self(Pairs::Borrowed(pairs))
    }
}

impl<'a> From<&'a Vec<(&'a str, &'a str)>> for ParamList<'a> {
    fn from(pairs: &'a Vec<(&'a str, &'a str)>) -> Self {
        Self(Pairs::Borrowed(pairs))
    }
}

impl<'a> From<&'a [(String, String)]> for ParamList<'a> {
    fn from(pairs: &'a [(String, String)]) -> Self {
        Self(Pairs::Owned(pairs))
    }
}

impl<'a> From<&'a Vec<(String, String)>> for ParamList<'a> {
    fn from(pairs: &'a Vec<(String, String)>) -> Self {
        Self(Pairs::Owned(pairs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn every_form_gives_its_pairs_in_order_and_knows_when_it_is_empty() {
        let slice: &[(&str, &str)] = &[("a", "1"), ("b", "2")];
        let owned: Vec<(String, String)> = vec![("a".into(), "1".into()), ("b".into(), "2".into())];
        let borrowed_vec: Vec<(&str, &str)> = slice.to_vec();
        for list in [
            ParamList::from(slice),
            ParamList::from(&[("a", "1"), ("b", "2")]),
            ParamList::from(&borrowed_vec),
            ParamList::from(owned.as_slice()),
            ParamList::from(&owned),
        ] {
            assert_eq!(list.iter().collect::<Vec<_>>(), [("a", "1"), ("b", "2")]);
            assert_eq!(list.len(), 2);
            assert!(!list.is_empty());
        }
        let none: &[(&str, &str)] = &[];
        let no_owned: Vec<(String, String)> = Vec::new();
        for list in [
            ParamList::default(),
            ParamList::from(none),
            ParamList::from(&no_owned),
        ] {
            assert!(list.is_empty());
            assert_eq!(list.len(), 0);
            assert_eq!(list.iter().count(), 0);
        }
    }
}
