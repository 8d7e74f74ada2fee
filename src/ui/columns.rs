//! Fitting table columns into the width there is.
//!
//! Columns have a priority: when the pane is narrow the least important ones
//! are dropped whole, so no number is ever cut in half; text columns marked
//! flexible share what is left over.

#[derive(Debug, Clone, Copy)]
pub struct Column<K> {
    pub key: K,
    /// Width the content needs (numbers: their widest value).
    pub width: usize,
    /// Flexible columns may shrink to `min` and grow into spare space.
    pub min: usize,
    pub flexible: bool,
    /// Lower is more important.
    pub priority: u8,
}

impl<K> Column<K> {
    /// A column shown at its full width or not at all (numbers).
    pub fn fixed(key: K, width: usize, priority: u8) -> Self {
        Column {
            key,
            width,
            min: width,
            flexible: false,
            priority,
        }
    }

    /// A text column that may be cut down to `min` and grows into spare room.
    pub fn flexible(key: K, width: usize, min: usize, priority: u8) -> Self {
        Column {
            key,
            width,
            min,
            flexible: true,
            priority,
        }
    }
}

/// Width a flexible text column gets before any column grows beyond it.
const COMFORTABLE: usize = 16;

/// Chooses columns (keeping their original order) and their widths so that
/// widths plus one space between columns fit in `total`.
pub fn fit<K: Copy>(columns: &[Column<K>], total: usize) -> Vec<(K, usize)> {
    let mut by_priority: Vec<usize> = (0..columns.len()).collect();
    by_priority.sort_by_key(|&i| columns[i].priority);
    let mut chosen: Vec<usize> = Vec::new();
    for &i in &by_priority {
        let c = &columns[i];
        let need_min: usize = chosen
            .iter()
            .map(|&j| min_width(&columns[j]))
            .sum::<usize>()
            + min_width(c)
            + chosen.len();
        if need_min <= total {
            chosen.push(i);
        }
    }
    chosen.sort_unstable();
    let mut widths: Vec<usize> = chosen.iter().map(|&i| min_width(&columns[i])).collect();
    let used: usize = widths.iter().sum::<usize>() + chosen.len().saturating_sub(1);
    let mut spare = total.saturating_sub(used);
    // Let flexible columns grow to what their content wants, most important
    // first: first each up to a readable width, so one long SKU cannot starve
    // the rule and detail columns, then all the way...
    let mut slots_by_priority: Vec<usize> = (0..chosen.len()).collect();
    slots_by_priority.sort_by_key(|&slot| columns[chosen[slot]].priority);
    for cap in [COMFORTABLE, usize::MAX] {
        for &slot in &slots_by_priority {
            let c = &columns[chosen[slot]];
            let want = c.width.min(cap);
            if c.flexible && want > widths[slot] {
                let grow = (want - widths[slot]).min(spare);
                widths[slot] += grow;
                spare -= grow;
            }
        }
    }
    // ...then give the rest to the last flexible column so the table fills the pane.
    if let Some(slot) = chosen.iter().rposition(|&i| columns[i].flexible) {
        widths[slot] += spare;
    }
    chosen
        .iter()
        .zip(widths)
        .map(|(&i, w)| (columns[i].key, w))
        .collect()
}

fn min_width<K>(c: &Column<K>) -> usize {
    if c.flexible { c.min } else { c.width }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(key: &'static str, width: usize, priority: u8, flexible: bool) -> Column<&'static str> {
        Column {
            key,
            width,
            min: if flexible { 4 } else { width },
            flexible,
            priority,
        }
    }

    #[test]
    fn everything_fits_when_there_is_room_and_flex_takes_the_rest() {
        let cols = [
            col("a", 5, 0, false),
            col("b", 10, 1, true),
            col("c", 3, 2, false),
        ];
        let got = fit(&cols, 30);
        assert_eq!(got, vec![("a", 5), ("b", 20), ("c", 3)]);
    }

    #[test]
    fn least_important_columns_drop_whole_and_order_is_kept() {
        let cols = [
            col("a", 5, 2, false),
            col("b", 8, 0, false),
            col("c", 6, 1, false),
        ];
        let got = fit(&cols, 16);
        assert_eq!(got, vec![("b", 8), ("c", 6)]);
        // Fixed columns keep their full width: never cut.
        assert!(
            got.iter()
                .all(|(k, w)| (*k != "b" || *w == 8) && (*k != "c" || *w == 6))
        );
    }

    #[test]
    fn spare_room_goes_to_the_most_important_flexible_column_first() {
        let cols = [col("rule", 20, 5, true), col("order", 14, 0, true)];
        // 4 + 4 + 1 space = 9 at minimum; of the 11 spare, `order` takes the
        // 10 it wants first and `rule` gets what is left.
        let got = fit(&cols, 20);
        assert_eq!(got, vec![("rule", 5), ("order", 14)]);
    }

    #[test]
    fn a_long_column_cannot_starve_the_others() {
        let cols = [col("sku", 40, 1, true), col("detail", 30, 2, true)];
        // 4 + 4 + 1 = 9; 31 spare: both reach 16 first (12 + 12), then sku takes the last 7.
        let got = fit(&cols, 40);
        assert_eq!(got, vec![("sku", 23), ("detail", 16)]);
    }

    #[test]
    fn flexible_columns_shrink_to_their_minimum() {
        let cols = [col("n", 6, 0, false), col("t", 40, 1, true)];
        let got = fit(&cols, 12);
        assert_eq!(got, vec![("n", 6), ("t", 5)]);
    }
}
