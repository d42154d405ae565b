//! Message text without `core::fmt`. Every `format!` pulls the formatting machinery and an
//! argument table into the wasm module; error messages here are plain concatenations of
//! pieces and whole numbers, so they are built from those directly.

/// The concatenation of `parts`.
pub(crate) fn cat(parts: &[&str]) -> String {
    let mut out = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for p in parts {
        out.push_str(p);
    }
    out
}

/// `n` in decimal.
pub(crate) fn num(n: u64) -> String {
    let mut out = String::new();
    push_num(&mut out, n, 1);
    out
}

/// Appends `n` in decimal, zero-padded to at least `width` digits (at most 20).
pub(crate) fn push_num(out: &mut String, mut n: u64, width: usize) {
    let mut digits = [b'0'; 20];
    let mut start = digits.len();
    while n > 0 || digits.len() - start < width.clamp(1, 20) {
        start -= 1;
        if let Some(d) = digits.get_mut(start) {
            *d = b'0' + (n % 10) as u8;
        }
        n /= 10;
    }
    for d in digits.get(start..).unwrap_or_default() {
        out.push(char::from(*d));
    }
}

/// Appends `n` in lower-case hexadecimal, zero-padded to at least `width` digits (at most 8).
pub(crate) fn push_hex(out: &mut String, n: u32, width: u32) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut started = false;
    for shift in (0..8).rev() {
        let nibble = (n >> (shift * 4)) & 15;
        if nibble != 0 || started || shift < width.max(1) {
            started = true;
            out.push(HEX.get(nibble as usize).map_or('0', |h| char::from(*h)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_match_the_standard_formatting() {
        for n in [0u64, 1, 9, 10, 99, 100, 12_345, u64::from(u32::MAX), 9_007_199_254_740_991, u64::MAX] {
            assert_eq!(num(n), n.to_string());
            for width in [1, 3, 6] {
                let mut s = String::new();
                push_num(&mut s, n, width);
                assert_eq!(s, format!("{n:0width$}"));
            }
        }
        for n in [0u32, 1, 0x1f, 0xabc, 0x10ffff, u32::MAX] {
            for width in [1usize, 4] {
                let mut s = String::new();
                push_hex(&mut s, n, width as u32);
                assert_eq!(s, format!("{n:0width$x}"));
            }
        }
        assert_eq!(cat(&["a", "", "bc"]), "abc");
    }
}
