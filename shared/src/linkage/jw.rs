//! Jaro and Jaro-Winkler similarity on bytes (the folded names are ASCII), without allocation
//! for names up to 64 bytes.

/// Jaro similarity of two byte strings, in `[0, 1]`; two empty strings are 1.
pub fn jaro(a: &[u8], b: &[u8]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    if a.len() > 64 || b.len() > 64 {
        return jaro_long(a, b);
    }
    let window = (a.len().max(b.len()) / 2).saturating_sub(1);
    let mut a_used: u64 = 0;
    let mut b_used: u64 = 0;
    let mut matches = 0usize;
    for (i, &ca) in a.iter().enumerate() {
        let lo = i.saturating_sub(window);
        let hi = (i + window + 1).min(b.len());
        for (j, &cb) in b.iter().enumerate().take(hi).skip(lo) {
            if b_used & (1 << j) == 0 && ca == cb {
                a_used |= 1 << i;
                b_used |= 1 << j;
                matches += 1;
                break;
            }
        }
    }
    if matches == 0 {
        return 0.0;
    }
    let mut transpositions = 0usize;
    let mut j = 0usize;
    for (i, &ca) in a.iter().enumerate() {
        if a_used & (1 << i) == 0 {
            continue;
        }
        while b_used & (1 << j) == 0 {
            j += 1;
        }
        if ca != b[j] {
            transpositions += 1;
        }
        j += 1;
    }
    let m = matches as f64;
    (m / a.len() as f64 + m / b.len() as f64 + (m - (transpositions / 2) as f64) / m) / 3.0
}

fn jaro_long(a: &[u8], b: &[u8]) -> f64 {
    let window = (a.len().max(b.len()) / 2).saturating_sub(1);
    let mut a_used = vec![false; a.len()];
    let mut b_used = vec![false; b.len()];
    let mut matches = 0usize;
    for (i, &ca) in a.iter().enumerate() {
        let lo = i.saturating_sub(window);
        let hi = (i + window + 1).min(b.len());
        for j in lo..hi {
            if !b_used[j] && ca == b[j] {
                a_used[i] = true;
                b_used[j] = true;
                matches += 1;
                break;
            }
        }
    }
    if matches == 0 {
        return 0.0;
    }
    let mut transpositions = 0usize;
    let mut j = 0usize;
    for (i, &ca) in a.iter().enumerate() {
        if !a_used[i] {
            continue;
        }
        while !b_used[j] {
            j += 1;
        }
        if ca != b[j] {
            transpositions += 1;
        }
        j += 1;
    }
    let m = matches as f64;
    (m / a.len() as f64 + m / b.len() as f64 + (m - (transpositions / 2) as f64) / m) / 3.0
}

/// Jaro-Winkler similarity: when the Jaro similarity is above 0.7 (Winkler's boost threshold),
/// a bonus of 0.1 per letter of common prefix (up to 4) times the distance to 1.
/// `jaro_winkler(b"MARTHA", b"MARHTA") ≈ 0.961`.
pub fn jaro_winkler(a: &[u8], b: &[u8]) -> f64 {
    let j = jaro(a, b);
    if j <= 0.7 {
        return j;
    }
    let prefix = a.iter().zip(b).take(4).take_while(|(x, y)| x == y).count();
    j + prefix as f64 * 0.1 * (1.0 - j)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-3
    }

    #[test]
    fn known_values() {
        // Winkler (1990) and the usual textbook pairs.
        assert!(close(jaro(b"MARTHA", b"MARHTA"), 0.944));
        assert!(close(jaro_winkler(b"MARTHA", b"MARHTA"), 0.961));
        assert!(close(jaro_winkler(b"DWAYNE", b"DUANE"), 0.840));
        assert!(close(jaro_winkler(b"DIXON", b"DICKSONX"), 0.813));
        assert!(close(jaro(b"CRATE", b"TRACE"), 0.733));
        assert_eq!(jaro_winkler(b"krasniqi", b"krasniqi"), 1.0);
        assert_eq!(jaro_winkler(b"abc", b"xyz"), 0.0);
        assert_eq!(jaro_winkler(b"", b""), 1.0);
        assert_eq!(jaro_winkler(b"a", b""), 0.0);
        // agrees with strsim's implementation on names
        for (a, b) in [
            ("krasniqi", "krasnici"),
            ("djordjevic", "dordevic"),
            ("berisha", "berisa"),
            ("arben", "albert"),
        ] {
            let ours = jaro_winkler(a.as_bytes(), b.as_bytes());
            let theirs = strsim::jaro_winkler(a, b);
            assert!(close(ours, theirs), "{a} {b}: {ours} vs {theirs}");
        }
    }

    proptest! {
        #[test]
        fn bounded_symmetric_and_long_path_agrees(a in "[a-e]{0,80}", b in "[a-e]{0,80}") {
            let x = jaro_winkler(a.as_bytes(), b.as_bytes());
            let y = jaro_winkler(b.as_bytes(), a.as_bytes());
            prop_assert!((0.0..=1.0 + 1e-12).contains(&x));
            prop_assert!((x - y).abs() < 1e-9);
            if !a.is_empty() && !b.is_empty() {
                prop_assert!((jaro(a.as_bytes(), b.as_bytes()) - jaro_long(a.as_bytes(), b.as_bytes())).abs() < 1e-12);
            }
            prop_assert!((x - strsim::jaro_winkler(&a, &b)).abs() < 1e-9 || a.len() > 64 || b.len() > 64);
        }
    }
}
