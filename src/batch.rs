//! Batch planning, pure: which distinct ids to fetch, and where each result goes.

/// The distinct ids of `ids` (sorted) and, for every input position, the index of its id
/// among them.
pub(crate) fn dedup(ids: &[String]) -> (Vec<&str>, Vec<usize>) {
    let mut unique: Vec<&str> = ids.iter().map(String::as_str).collect();
    unique.sort_unstable();
    unique.dedup();
    let slot_of = ids.iter().map(|id| unique.binary_search(&id.as_str()).unwrap_or_default()).collect();
    (unique, slot_of)
}

#[cfg(test)]
mod tests {
    use super::*;

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
