//! Sorted sets of result positions, the currency of the query engine.
//!
//! Each set answers what a page needs without walking the results: how
//! many positions it holds, its `m`-th position, how many of its positions
//! come before a given one, and whether it holds a position. Ranges,
//! sorted lists, a range less a sorted list, and periodic patterns (the
//! generated results of one command or one instance) all do this in
//! constant or logarithmic time; an intersection of several filters is
//! computed once into a sorted list.

use std::sync::Arc;

/// A sorted set of positions.
#[derive(Debug, Clone)]
pub(crate) enum Set {
    /// No position.
    Empty,
    /// `start..end`.
    Range { start: u64, end: u64 },
    /// `base + n` for each `n` of a sorted list.
    List { base: u64, items: Arc<[u32]> },
    /// A sorted list of positions.
    Wide(Arc<[u64]>),
    /// `0..end` less a sorted list of positions.
    Without { end: u64, excluded: Arc<[u32]> },
    /// `period * q + offset` for every `q` and every offset of a sorted
    /// list of offsets below `period`, up to `end`.
    Periodic {
        period: u64,
        offsets: Arc<[u64]>,
        end: u64,
    },
}

/// The number of items of a sorted slice below `pos`.
fn below<T: Copy + Into<u64>>(items: &[T], base: u64, pos: u64) -> u64 {
    if pos <= base {
        return 0;
    }
    let limit = pos - base;
    items.partition_point(|&x| x.into() < limit) as u64
}

/// Whether a sorted slice holds `pos - base`.
fn holds<T: Copy + Into<u64>>(items: &[T], base: u64, pos: u64) -> bool {
    pos.checked_sub(base).is_some_and(|want| {
        let at = items.partition_point(|&x| x.into() < want);
        items.get(at).is_some_and(|&x| x.into() == want)
    })
}

impl Set {
    /// How many positions it holds.
    pub(crate) fn len(&self) -> u64 {
        match self {
            Self::Empty => 0,
            Self::Range { start, end } => end.saturating_sub(*start),
            Self::List { items, .. } => items.len() as u64,
            Self::Wide(items) => items.len() as u64,
            Self::Without { end, excluded } => end.saturating_sub(excluded.len() as u64),
            Self::Periodic {
                period,
                offsets,
                end,
            } => (end / period) * offsets.len() as u64 + below(offsets, 0, end % period),
        }
    }

    /// Its `m`-th position (from 0), if it holds that many.
    pub(crate) fn nth(&self, m: u64) -> Option<u64> {
        if m >= self.len() {
            return None;
        }
        let at = usize::try_from(m).ok()?;
        match self {
            Self::Empty => None,
            Self::Range { start, .. } => Some(start + m),
            Self::List { base, items } => items.get(at).map(|&x| base + u64::from(x)),
            Self::Wide(items) => items.get(at).copied(),
            Self::Without { excluded, .. } => {
                // The excluded positions before the answer, `i`, are those
                // with `excluded[i] - i <= m` (a non-decreasing quantity);
                // the answer is then `m + i`.
                let (mut low, mut high) = (0usize, excluded.len());
                while low < high {
                    let mid = low + (high - low) / 2;
                    if u64::from(excluded[mid]) - mid as u64 <= m {
                        low = mid + 1;
                    } else {
                        high = mid;
                    }
                }
                Some(m + low as u64)
            }
            Self::Periodic {
                period, offsets, ..
            } => {
                let per = offsets.len() as u64;
                let offset = offsets.get(usize::try_from(m % per).ok()?)?;
                Some((m / per) * period + offset)
            }
        }
    }

    /// How many of its positions are below `pos`.
    pub(crate) fn rank(&self, pos: u64) -> u64 {
        match self {
            Self::Empty => 0,
            Self::Range { start, end } => pos.clamp(*start, *end) - start,
            Self::List { base, items } => below(items, *base, pos),
            Self::Wide(items) => below(items, 0, pos),
            Self::Without { end, excluded } => {
                let pos = pos.min(*end);
                pos - below(excluded, 0, pos)
            }
            Self::Periodic {
                period,
                offsets,
                end,
            } => {
                let pos = pos.min(*end);
                (pos / period) * offsets.len() as u64 + below(offsets, 0, pos % period)
            }
        }
    }

    /// Whether it holds `pos`.
    pub(crate) fn contains(&self, pos: u64) -> bool {
        match self {
            Self::Empty => false,
            Self::Range { start, end } => (*start..*end).contains(&pos),
            Self::List { base, items } => holds(items, *base, pos),
            Self::Wide(items) => holds(items, 0, pos),
            Self::Without { end, excluded } => pos < *end && !holds(excluded, 0, pos),
            Self::Periodic {
                period,
                offsets,
                end,
            } => pos < *end && holds(offsets, 0, pos % period),
        }
    }
}

/// What building the intersection of `sets` costs: the size of the
/// smallest (every position of it is checked against the others), or 0
/// when there is nothing to build.
pub(crate) fn intersection_cost(sets: &[Set]) -> u64 {
    if sets.len() < 2 {
        return 0;
    }
    sets.iter().map(Set::len).min().unwrap_or(0)
}

/// The positions every one of `sets` holds (all positions when `sets` is
/// empty is the caller's business: this returns `Empty` then).
pub(crate) fn intersect(mut sets: Vec<Set>) -> Set {
    if sets.len() < 2 {
        return sets.pop().unwrap_or(Set::Empty);
    }
    let Some((smallest, _)) = sets.iter().enumerate().min_by_key(|(_, s)| s.len()) else {
        return Set::Empty;
    };
    let driver = sets.swap_remove(smallest);
    let found: Vec<u64> = (0..driver.len())
        .filter_map(|m| driver.nth(m))
        .filter(|&pos| sets.iter().all(|s| s.contains(pos)))
        .collect();
    Set::Wide(found.into())
}

/// The positions a query lists: those of the generated results, then
/// those of the explicit ones (every position of `first` is below every
/// position of `second`).
#[derive(Debug, Clone)]
pub(crate) struct Matches {
    first: Set,
    second: Set,
}

impl Matches {
    pub(crate) fn new(first: Set, second: Set) -> Self {
        Self { first, second }
    }

    pub(crate) fn len(&self) -> u64 {
        self.first.len() + self.second.len()
    }

    pub(crate) fn nth(&self, m: u64) -> Option<u64> {
        let split = self.first.len();
        if m < split {
            self.first.nth(m)
        } else {
            self.second.nth(m - split)
        }
    }

    pub(crate) fn rank(&self, pos: u64) -> u64 {
        self.first.rank(pos) + self.second.rank(pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every set against the same positions listed the slow way.
    fn check(set: &Set, universe: u64) {
        let members: Vec<u64> = (0..universe).filter(|p| set.contains(*p)).collect();
        assert_eq!(set.len(), members.len() as u64, "{set:?}");
        for (m, &pos) in members.iter().enumerate() {
            assert_eq!(set.nth(m as u64), Some(pos), "{set:?} nth({m})");
        }
        assert_eq!(set.nth(members.len() as u64), None);
        for pos in 0..=universe {
            let rank = members.iter().filter(|&&p| p < pos).count() as u64;
            assert_eq!(set.rank(pos), rank, "{set:?} rank({pos})");
        }
    }

    #[test]
    fn every_kind_of_set_answers_like_a_list() {
        let sets = [
            Set::Empty,
            Set::Range { start: 3, end: 9 },
            Set::List {
                base: 5,
                items: vec![0, 2, 3, 10].into(),
            },
            Set::Wide(vec![1, 4, 17].into()),
            Set::Without {
                end: 20,
                excluded: vec![0, 1, 5, 6, 19].into(),
            },
            Set::Without {
                end: 6,
                excluded: Vec::new().into(),
            },
            Set::Periodic {
                period: 7,
                offsets: vec![1, 2, 6].into(),
                end: 19,
            },
        ];
        for set in &sets {
            check(set, 25);
        }
    }

    #[test]
    fn an_intersection_holds_what_all_hold_and_matches_concatenate() {
        let a = Set::Periodic {
            period: 4,
            offsets: vec![0, 1].into(),
            end: 30,
        };
        let b = Set::Without {
            end: 30,
            excluded: vec![4, 8, 9].into(),
        };
        let c = Set::Range { start: 2, end: 25 };
        assert_eq!(intersection_cost(&[a.clone(), b.clone(), c.clone()]), 16);
        let both = intersect(vec![a.clone(), b.clone(), c.clone()]);
        let expected: Vec<u64> = (0..30)
            .filter(|p| a.contains(*p) && b.contains(*p) && c.contains(*p))
            .collect();
        assert_eq!(
            (0..both.len())
                .filter_map(|m| both.nth(m))
                .collect::<Vec<_>>(),
            expected
        );
        check(&both, 30);

        let matches = Matches::new(
            Set::Range { start: 0, end: 3 },
            Set::Wide(vec![10, 12].into()),
        );
        assert_eq!(matches.len(), 5);
        assert_eq!(matches.nth(3), Some(10));
        assert_eq!(matches.rank(11), 4);
        assert_eq!(matches.nth(5), None);
    }
}
