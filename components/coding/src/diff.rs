//! Line diffs: Myers' O(ND) algorithm and unified-diff output.
//!
//! Lines are compared with their line endings, so `a` and `a\n` differ and a
//! missing final newline is reported with `\ No newline at end of file`, as
//! GNU diff does. When the texts differ in more than [`MAX_EDITS`] lines the
//! differing middle part (after the common prefix and suffix) is reported as
//! replaced wholesale, which keeps memory bounded; the diff is still correct,
//! only not minimal.

/// Edit distance beyond which the middle part is treated as one replacement.
pub const MAX_EDITS: usize = 2000;

/// One step of an edit script, with indices into the old and new lines.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op {
    Equal(usize, usize),
    Delete(usize),
    Insert(usize),
}

/// The minimal edit script turning `a` into `b` (see the module notes for
/// very different inputs).
pub fn edit_script<T: PartialEq>(a: &[T], b: &[T]) -> Vec<Op> {
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (a_mid, b_mid) = (&a[prefix..a.len() - suffix], &b[prefix..b.len() - suffix]);
    let mut ops: Vec<Op> = (0..prefix).map(|i| Op::Equal(i, i)).collect();
    let middle = myers(a_mid, b_mid, MAX_EDITS).unwrap_or_else(|| {
        let mut ops: Vec<Op> = (0..a_mid.len()).map(Op::Delete).collect();
        ops.extend((0..b_mid.len()).map(Op::Insert));
        ops
    });
    ops.extend(middle.into_iter().map(|op| match op {
        Op::Equal(i, j) => Op::Equal(i + prefix, j + prefix),
        Op::Delete(i) => Op::Delete(i + prefix),
        Op::Insert(j) => Op::Insert(j + prefix),
    }));
    let (a_end, b_end) = (a.len() - suffix, b.len() - suffix);
    ops.extend((0..suffix).map(|i| Op::Equal(a_end + i, b_end + i)));
    ops
}

/// Myers' greedy algorithm; `None` when more than `max_d` edits are needed.
fn myers<T: PartialEq>(a: &[T], b: &[T], max_d: usize) -> Option<Vec<Op>> {
    let (n, m) = (a.len() as i32, b.len() as i32);
    let max = (n + m) as usize;
    let off = max as i32 + 1;
    let mut v = vec![0i32; 2 * max + 3];
    // trace[d] holds v for k in -d..=d as it was before step d.
    let mut trace: Vec<Vec<i32>> = Vec::new();
    let mut found = None;
    'outer: for d in 0..=max as i32 {
        if d as usize > max_d {
            return None;
        }
        trace.push(v[(off - d) as usize..=(off + d) as usize].to_vec());
        let mut k = -d;
        while k <= d {
            let mut x = if k == -d || (k != d && v[(off + k - 1) as usize] < v[(off + k + 1) as usize]) {
                v[(off + k + 1) as usize]
            } else {
                v[(off + k - 1) as usize] + 1
            };
            let mut y = x - k;
            while x < n && y < m && a[x as usize] == b[y as usize] {
                x += 1;
                y += 1;
            }
            v[(off + k) as usize] = x;
            if x >= n && y >= m {
                found = Some(d);
                break 'outer;
            }
            k += 2;
        }
    }
    let depth = found?;
    let mut ops = Vec::new();
    let (mut x, mut y) = (n, m);
    for d in (0..=depth).rev() {
        if d == 0 {
            while x > 0 && y > 0 {
                ops.push(Op::Equal((x - 1) as usize, (y - 1) as usize));
                x -= 1;
                y -= 1;
            }
            break;
        }
        let snapshot = &trace[d as usize];
        let get = |k: i32| snapshot[(k + d) as usize];
        let k = x - y;
        let prev_k = if k == -d || (k != d && get(k - 1) < get(k + 1)) {
            k + 1
        } else {
            k - 1
        };
        let prev_x = get(prev_k);
        let prev_y = prev_x - prev_k;
        while x > prev_x && y > prev_y {
            ops.push(Op::Equal((x - 1) as usize, (y - 1) as usize));
            x -= 1;
            y -= 1;
        }
        if x == prev_x {
            ops.push(Op::Insert((y - 1) as usize));
        } else {
            ops.push(Op::Delete((x - 1) as usize));
        }
        x = prev_x;
        y = prev_y;
    }
    ops.reverse();
    Some(ops)
}

/// A unified diff and its counts.
pub struct UnifiedDiff {
    /// Empty when the texts are equal.
    pub text: String,
    pub hunks: usize,
    pub added: usize,
    pub removed: usize,
}

fn range(start: usize, len: usize) -> String {
    // An empty range names the line before it; a one-line range omits its length.
    match len {
        0 => format!("{start},0"),
        1 => format!("{}", start + 1),
        _ => format!("{},{len}", start + 1),
    }
}

fn push_line(out: &mut String, prefix: char, line: &str) {
    out.push(prefix);
    out.push_str(line);
    if !line.ends_with('\n') {
        out.push_str("\n\\ No newline at end of file\n");
    }
}

/// The unified diff of `old` and `new` with `context` lines around changes.
pub fn unified(old: &str, new: &str, old_name: &str, new_name: &str, context: usize) -> UnifiedDiff {
    let a: Vec<&str> = old.split_inclusive('\n').collect();
    let b: Vec<&str> = new.split_inclusive('\n').collect();
    let ops = edit_script(&a, &b);
    // Old and new line positions before each op.
    let mut positions = Vec::with_capacity(ops.len() + 1);
    let (mut i, mut j) = (0, 0);
    for op in &ops {
        positions.push((i, j));
        match op {
            Op::Equal(..) => (i, j) = (i + 1, j + 1),
            Op::Delete(_) => i += 1,
            Op::Insert(_) => j += 1,
        }
    }
    positions.push((i, j));
    let changes: Vec<usize> = (0..ops.len()).filter(|&k| !matches!(ops[k], Op::Equal(..))).collect();
    let mut result = UnifiedDiff {
        text: String::new(),
        hunks: 0,
        added: 0,
        removed: 0,
    };
    if changes.is_empty() {
        return result;
    }
    result.text.push_str(&format!("--- {old_name}\n+++ {new_name}\n"));
    let mut c = 0;
    while c < changes.len() {
        let first = changes[c];
        let mut last = first;
        while c + 1 < changes.len() && changes[c + 1] - last - 1 <= 2 * context {
            c += 1;
            last = changes[c];
        }
        c += 1;
        let start = first.saturating_sub(context);
        let end = (last + context + 1).min(ops.len());
        let (old_start, new_start) = positions[start];
        let (old_end, new_end) = positions[end];
        result.hunks += 1;
        result.text.push_str(&format!(
            "@@ -{} +{} @@\n",
            range(old_start, old_end - old_start),
            range(new_start, new_end - new_start)
        ));
        for op in &ops[start..end] {
            match *op {
                Op::Equal(i, _) => push_line(&mut result.text, ' ', a[i]),
                Op::Delete(i) => {
                    result.removed += 1;
                    push_line(&mut result.text, '-', a[i]);
                }
                Op::Insert(j) => {
                    result.added += 1;
                    push_line(&mut result.text, '+', b[j]);
                }
            }
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Applies an edit script, to check it really turns `a` into `b`.
    fn apply<'a>(a: &[&'a str], b: &[&'a str], ops: &[Op]) -> Vec<&'a str> {
        ops.iter()
            .filter_map(|op| match *op {
                Op::Equal(i, j) => {
                    assert_eq!(a[i], b[j]);
                    Some(a[i])
                }
                Op::Delete(_) => None,
                Op::Insert(j) => Some(b[j]),
            })
            .collect()
    }

    #[test]
    fn scripts_are_minimal_and_correct() {
        let a: Vec<&str> = "abcabba".split("").filter(|s| !s.is_empty()).collect();
        let b: Vec<&str> = "cbabac".split("").filter(|s| !s.is_empty()).collect();
        let ops = edit_script(&a, &b);
        assert_eq!(apply(&a, &b, &ops), b);
        let edits = ops.iter().filter(|o| !matches!(o, Op::Equal(..))).count();
        assert_eq!(edits, 5, "the classic example has distance 5");
        for (x, y) in [
            ("", "abc"),
            ("abc", ""),
            ("", ""),
            ("same", "same"),
            ("kitten", "sitting"),
        ] {
            let a: Vec<&str> = x.split("").filter(|s| !s.is_empty()).collect();
            let b: Vec<&str> = y.split("").filter(|s| !s.is_empty()).collect();
            assert_eq!(apply(&a, &b, &edit_script(&a, &b)), b, "{x} -> {y}");
        }
    }

    #[test]
    fn falls_back_when_too_different() {
        let a: Vec<String> = (0..1500).map(|i| format!("a{i}")).collect();
        let b: Vec<String> = (0..1500).map(|i| format!("b{i}")).collect();
        let ops = edit_script(&a, &b);
        assert_eq!(ops.len(), 3000);
        assert!(matches!(ops[0], Op::Delete(0)) && matches!(ops[2999], Op::Insert(1499)));
    }

    #[test]
    fn unified_output_matches_gnu_diff() {
        let old = "one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\nten\n";
        let new = "one\ntwo\nTHREE\nfour\nfive\nsix\nseven\neight\nnine\nten\neleven\n";
        let d = unified(old, new, "a/n.txt", "b/n.txt", 3);
        assert_eq!(
            d.text,
            "--- a/n.txt\n+++ b/n.txt\n@@ -1,6 +1,6 @@\n one\n two\n-three\n+THREE\n four\n five\n six\n@@ -8,3 +8,4 @@\n eight\n nine\n ten\n+eleven\n"
        );
        assert_eq!((d.hunks, d.added, d.removed), (2, 2, 1));
        let merged = unified(old, new, "a", "b", 4);
        assert_eq!(merged.hunks, 1);
        assert!(merged.text.contains("@@ -1,10 +1,11 @@"));
    }

    #[test]
    fn empty_ranges_and_missing_newlines() {
        let d = unified("", "x\n", "a", "b", 3);
        assert_eq!(d.text, "--- a\n+++ b\n@@ -0,0 +1 @@\n+x\n");
        let d = unified("a\nb", "a\nb\n", "a", "b", 3);
        assert_eq!(
            d.text,
            "--- a\n+++ b\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n"
        );
        assert_eq!(unified("same\n", "same\n", "a", "b", 3).text, "");
    }
}
