//! The matrix: one task per combination of the values of its keys.

use indexmap::IndexMap;

use crate::model::MatrixValues;

/// A campaign may make at most this many tasks: more is surely a mistake in the matrix, and
/// each task is a request to review and send.
pub const MAX_TASKS: usize = 10_000;

/// One combination: for each matrix key, in file order, the index of its value.
pub type Combination = Vec<usize>;

/// Every combination, in a stable order: keys in file order, the first key varying slowest,
/// values in the order written (like nested loops, or GitHub Actions' matrix). A campaign
/// without a matrix has one, empty, combination. `Err` holds the count when it exceeds
/// [`MAX_TASKS`].
pub fn combinations(matrix: &IndexMap<String, MatrixValues>) -> Result<Vec<Combination>, u128> {
    let count = matrix.values().fold(1u128, |count, values| {
        count.saturating_mul(values.0.len() as u128)
    });
    if count > MAX_TASKS as u128 {
        return Err(count);
    }
    let mut all: Vec<Combination> = vec![Vec::with_capacity(matrix.len())];
    for values in matrix.values() {
        all = all
            .into_iter()
            .flat_map(|prefix| {
                (0..values.0.len()).map(move |index| {
                    let mut next = prefix.clone();
                    next.push(index);
                    next
                })
            })
            .collect();
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix(keys: &[(&str, usize)]) -> IndexMap<String, MatrixValues> {
        keys.iter()
            .map(|(key, n)| {
                let values = (0..*n).map(|i| serde_json::json!(i)).collect();
                ((*key).to_owned(), MatrixValues(values))
            })
            .collect()
    }

    #[test]
    fn no_matrix_is_one_task() {
        assert_eq!(combinations(&IndexMap::new()), Ok(vec![vec![]]));
    }

    #[test]
    fn first_key_varies_slowest() {
        let all = combinations(&matrix(&[("region", 2), ("tier", 3)])).unwrap();
        assert_eq!(
            all,
            vec![
                vec![0, 0],
                vec![0, 1],
                vec![0, 2],
                vec![1, 0],
                vec![1, 1],
                vec![1, 2]
            ]
        );
    }

    #[test]
    fn huge_matrices_are_refused() {
        assert_eq!(
            combinations(&matrix(&[("a", 1000), ("b", 1000)])),
            Err(1_000_000)
        );
    }
}
