//! Batch planning, pure: which distinct ids to fetch, and where each result goes.

/// The distinct ids of `ids` (in sorted order) and, for every input position, the index of
/// its id among them. Sorting positions finds duplicates in O(n log n) without a hash map's
/// code size.
pub(crate) fn dedup(ids: &[String]) -> (Vec<&str>, Vec<usize>) {
    let id_at = |i: usize| ids.get(i).map_or("", String::as_str);
    let mut order: Vec<usize> = (0..ids.len()).collect();
    heap_sort(&mut order, |&a, &b| (id_at(a), a) < (id_at(b), b));
    let mut unique: Vec<&str> = Vec::new();
    let mut slot_of = vec![0usize; ids.len()];
    for (n, &pos) in order.iter().enumerate() {
        let first_of_run = n == 0 || order.get(n - 1).is_none_or(|&prev| id_at(prev) != id_at(pos));
        if first_of_run {
            unique.push(id_at(pos));
        }
        if let Some(slot) = slot_of.get_mut(pos) {
            *slot = unique.len() - 1;
        }
    }
    (unique, slot_of)
}

/// Heapsort: O(n log n) in place, a few hundred bytes of wasm where the standard library's
/// sorts are about 4 KB.
fn heap_sort<T>(v: &mut [T], less: impl Fn(&T, &T) -> bool) {
    let is_less = |v: &[T], i: usize, j: usize| match (v.get(i), v.get(j)) {
        (Some(a), Some(b)) => less(a, b),
        _ => false,
    };
    // Moves v[root] down until neither child is greater, within v[..end].
    let sift_down = |v: &mut [T], mut root: usize, end: usize| loop {
        let mut child = 2 * root + 1;
        if child >= end {
            return;
        }
        if child + 1 < end && is_less(v, child, child + 1) {
            child += 1;
        }
        if !is_less(v, root, child) {
            return;
        }
        v.swap(root, child);
        root = child;
    };
    let n = v.len();
    for root in (0..n / 2).rev() {
        sift_down(v, root, n);
    }
    for end in (1..n).rev() {
        v.swap(0, end);
        sift_down(v, 0, end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heap_sort_sorts_like_the_standard_sort() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for len in [0usize, 1, 2, 3, 5, 8, 13, 100, 1000] {
            let mut v: Vec<u32> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    (seed % 50) as u32
                })
                .collect();
            let mut expected = v.clone();
            expected.sort();
            heap_sort(&mut v, |a, b| a < b);
            assert_eq!(v, expected, "len {len}");
        }
    }

    #[test]
    fn dedup_maps_every_position_to_its_distinct_id() {
        let ids: Vec<String> = ["b", "a", "b", "c", "a", "b"].iter().map(|s| s.to_string()).collect();
        let (unique, slot_of) = dedup(&ids);
        assert_eq!(unique, ["a", "b", "c"]);
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(unique[slot_of[i]], id);
        }
        let (unique, slot_of) = dedup(&[]);
        assert!(unique.is_empty() && slot_of.is_empty());
    }
}
