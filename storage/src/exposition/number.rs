//! Number syntax of the exposition formats.
//!
//! Sample values follow Go's `strconv.ParseFloat(s, 64)`, which is what
//! Prometheus uses: decimal floats (`1`, `-0.5`, `1e3`, `.5`, `1.`), the
//! case-insensitive specials `NaN`, `Inf`, `Infinity` (the latter two with an
//! optional sign) and hexadecimal floats with a binary exponent (`0x1p3`,
//! `-0x1.8p-1`). A finite literal that overflows `f64` is an error, as in Go.
//! Digit-separating underscores (Go accepts them after a base prefix only) are
//! not supported.

/// Parses a sample value; `None` if `s` is not a Go `ParseFloat` literal.
#[inline]
pub(crate) fn parse_value(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    // Fast path: small non-negative integers, by far the most frequent values
    // (counters, gauges of 0/1, bucket counts). 15 digits are exact in f64.
    if !b.is_empty() && b.len() <= 15 {
        let mut v: u64 = 0;
        let mut all_digits = true;
        for &c in b {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                all_digits = false;
                break;
            }
            v = v * 10 + d as u64;
        }
        if all_digits {
            return Some(v as f64);
        }
    }
    parse_decimal_fast(b).or_else(|| parse_value_slow(b, s))
}

/// Powers of ten that are exact in `f64`.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Clinger's fast path: `[-+]digits[.digits][e[-+]digits]` with at most 15
/// significant digits and a decimal exponent within ±22 is one exact integer
/// times or divided by an exact power of ten, so a single IEEE operation gives
/// the correctly rounded result. Covers what exporters print (`0.5`,
/// `1.2345e+06`, `-3.25`); anything else returns `None`.
#[inline]
fn parse_decimal_fast(b: &[u8]) -> Option<f64> {
    let mut i = 0;
    let neg = match b.first()? {
        b'-' => {
            i = 1;
            true
        }
        b'+' => {
            i = 1;
            false
        }
        _ => false,
    };
    let mut mant: u64 = 0;
    let mut digits = 0;
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        mant = mant.wrapping_mul(10).wrapping_add((b[i] - b'0') as u64);
        digits += 1;
        i += 1;
    }
    let mut exp: i32 = 0;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let frac_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            mant = mant.wrapping_mul(10).wrapping_add((b[i] - b'0') as u64);
            digits += 1;
            i += 1;
        }
        // Capped: a longer fraction exceeds 15 digits and is rejected below.
        exp = -((i - frac_start).min(64) as i32);
    }
    if digits == 0 || i == int_start || digits > 15 {
        return None;
    }
    if i < b.len() && (b[i] | 0x20) == b'e' {
        i += 1;
        let eneg = match b.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let start = i;
        let mut e: i32 = 0;
        while i < b.len() && b[i].is_ascii_digit() && i - start < 4 {
            e = e * 10 + (b[i] - b'0') as i32;
            i += 1;
        }
        if i == start {
            return None;
        }
        exp += if eneg { -e } else { e };
    }
    if i != b.len() || !(-22..=22).contains(&exp) {
        return None;
    }
    let m = mant as f64;
    let v = if exp >= 0 {
        m * POW10[exp as usize]
    } else {
        m / POW10[(-exp) as usize]
    };
    Some(if neg { -v } else { v })
}

#[cold]
fn parse_value_slow(b: &[u8], s: &str) -> Option<f64> {
    let (neg, digits) = match b.first()? {
        b'+' => (false, &b[1..]),
        b'-' => (true, &b[1..]),
        _ => (false, b),
    };
    let first = *digits.first()?;
    // Go accepts a sign before "Inf"/"Infinity" but not before "NaN".
    if (first == b'n' || first == b'N') && digits.len() != b.len() {
        return None;
    }
    if digits.len() >= 2 && digits[0] == b'0' && (digits[1] | 0x20) == b'x' {
        let v = parse_hex(&digits[2..])?;
        return Some(if neg { -v } else { v });
    }
    // Rust and Go agree on the remaining grammar (decimal with optional
    // fraction and exponent, inf/infinity/nan in any case), except that Go
    // reports overflow to infinity as an error.
    if !(first.is_ascii_digit()
        || first == b'.'
        || (first | 0x20) == b'i'
        || (first | 0x20) == b'n')
    {
        return None;
    }
    let v: f64 = s.parse().ok()?;
    if v.is_infinite() && (first | 0x20) != b'i' {
        return None;
    }
    Some(v)
}

/// Hexadecimal float after the `0x`: hex mantissa with optional point and a
/// mandatory binary exponent `p[+-]digits`.
fn parse_hex(b: &[u8]) -> Option<f64> {
    let mut mant: u64 = 0;
    let mut exp: i64 = 0;
    let mut any = false;
    let mut dot = false;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            b'.' if !dot => {
                dot = true;
                i += 1;
                continue;
            }
            _ => break,
        };
        any = true;
        if mant >> 58 == 0 {
            mant = mant * 16 + d as u64;
            if dot {
                exp -= 4;
            }
        } else {
            // Mantissa full: drop the digit (precision beyond 58 bits is lost).
            mant |= (d != 0) as u64;
            if !dot {
                exp += 4;
            }
        }
        i += 1;
    }
    if !any || i >= b.len() || (b[i] | 0x20) != b'p' {
        return None;
    }
    i += 1;
    let eneg = match b.get(i) {
        Some(b'+') => {
            i += 1;
            false
        }
        Some(b'-') => {
            i += 1;
            true
        }
        _ => false,
    };
    if i >= b.len() {
        return None;
    }
    let mut e: i64 = 0;
    for &c in &b[i..] {
        if !c.is_ascii_digit() {
            return None;
        }
        e = (e * 10 + (c - b'0') as i64).min(100_000);
    }
    exp += if eneg { -e } else { e };
    let mut v = mant as f64;
    while exp > 0 && v != 0.0 && v.is_finite() {
        let step = exp.min(1000);
        v *= 2f64.powi(step as i32);
        exp -= step;
    }
    while exp < 0 && v != 0.0 {
        let step = (-exp).min(1000);
        v *= 2f64.powi(-step as i32);
        exp += step;
    }
    if v.is_infinite() {
        return None;
    }
    Some(v)
}

/// The value of the first 8 bytes of `b` if they are all ASCII digits,
/// computed in one `u64` (the SWAR method of the fast_float library).
/// `b` must hold at least 8 bytes.
#[inline(always)]
pub(crate) fn eight_digits(b: &[u8]) -> Option<u64> {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    let v = u64::from_le_bytes(a);
    let all_digits = (v.wrapping_add(0x4646_4646_4646_4646)
        | v.wrapping_sub(0x3030_3030_3030_3030))
        & 0x8080_8080_8080_8080
        == 0;
    if !all_digits {
        return None;
    }
    let v = (v & 0x0F0F_0F0F_0F0F_0F0F).wrapping_mul(2561) >> 8;
    let v = (v & 0x00FF_00FF_00FF_00FF).wrapping_mul(6_553_601) >> 16;
    Some((v & 0x0000_FFFF_0000_FFFF).wrapping_mul(42_949_672_960_001) >> 32)
}

/// Prometheus text format timestamp: decimal digits only (milliseconds).
#[inline]
pub(crate) fn parse_timestamp_ms(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.is_empty() || b.len() > 19 {
        return None;
    }
    let mut v: i64 = 0;
    for &c in b {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(d as i64)?;
    }
    Some(v)
}

/// OpenMetrics timestamp: float seconds, converted to milliseconds rounded
/// half away from zero. Plain decimals (`1520879607.789`) are converted
/// exactly; other forms go through `f64`.
pub(crate) fn parse_timestamp_seconds(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let (neg, rest) = match b.first()? {
        b'-' => (true, &b[1..]),
        b'+' => (false, &b[1..]),
        _ => (false, b),
    };
    let int_len = rest.iter().take_while(|c| c.is_ascii_digit()).count();
    let frac = &rest[int_len..];
    let exact = int_len > 0
        && int_len <= 15
        && (frac.is_empty() || (frac[0] == b'.' && frac[1..].iter().all(u8::is_ascii_digit)));
    if exact {
        let mut ms: i64 = 0;
        for &c in &rest[..int_len] {
            ms = ms * 10 + (c - b'0') as i64;
        }
        ms *= 1000;
        let fd = if frac.is_empty() {
            &frac[..0]
        } else {
            &frac[1..]
        };
        let mut scale = 100;
        for &c in fd.iter().take(3) {
            ms += (c - b'0') as i64 * scale;
            scale /= 10;
        }
        if fd.len() > 3 && fd[3] >= b'5' {
            ms += 1;
        }
        return Some(if neg { -ms } else { ms });
    }
    let v = parse_value(s)?;
    if !v.is_finite() {
        return None;
    }
    let ms = (v * 1000.0).round();
    if (-9.2e18..=9.2e18).contains(&ms) {
        Some(ms as i64)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_parse_float_forms() {
        let ok = [
            ("0", 0.0),
            ("1", 1.0),
            ("-0.5", -0.5),
            ("+3", 3.0),
            ("1e3", 1000.0),
            ("1E-3", 0.001),
            (".5", 0.5),
            ("1.", 1.0),
            ("1.2345e+06", 1234500.0),
            ("0x1p3", 8.0),
            ("0X1.8p1", 3.0),
            ("-0x10p-4", -1.0),
            ("0x.8p0", 0.5),
            ("123456789012345678901234567890", 1.2345678901234568e29),
        ];
        for (s, v) in ok {
            assert_eq!(parse_value(s), Some(v), "{s}");
        }
        for s in ["Inf", "+Inf", "inf", "Infinity", "+infinity"] {
            assert_eq!(parse_value(s), Some(f64::INFINITY), "{s}");
        }
        for s in ["-Inf", "-inf", "-Infinity"] {
            assert_eq!(parse_value(s), Some(f64::NEG_INFINITY), "{s}");
        }
        for s in ["NaN", "nan", "NAN"] {
            assert!(parse_value(s).unwrap().is_nan(), "{s}");
        }
        for s in [
            "", "-", "+", ".", "e3", "1e", "1e+", "0x", "0x1", "0x1p", "0xp3", "1_000", "+NaN",
            "-nan", "1e400", "0x1p5000", "abc", "1.2.3", " 1", "1 ", "--1", "0x1.8.p1", "in",
            "infin",
        ] {
            assert_eq!(parse_value(s).map(f64::to_bits), None, "{s:?}");
        }
    }

    proptest::proptest! {
        /// The fast decimal path agrees bit for bit with the standard
        /// library's correctly rounded parser.
        #[test]
        fn fast_decimal_path_is_exact(
            int in "[0-9]{0,9}",
            frac in proptest::option::of("[0-9]{0,9}"),
            exp in proptest::option::of(-30i32..30),
            neg in proptest::bool::ANY,
        ) {
            let mut s = String::new();
            if neg { s.push('-'); }
            s.push_str(&int);
            if let Some(f) = &frac { s.push('.'); s.push_str(f); }
            if let Some(e) = exp { s.push_str(&format!("e{e}")); }
            let want: Option<f64> = s.parse().ok();
            let want = want.filter(|_| int.len() + frac.as_ref().map_or(0, |f| f.len()) > 0);
            proptest::prop_assert_eq!(parse_value(&s).map(f64::to_bits), want.map(f64::to_bits), "{}", s);
        }
    }

    #[test]
    fn eight_digits_swar() {
        assert_eq!(eight_digits(b"12345678"), Some(12_345_678));
        assert_eq!(eight_digits(b"00000000"), Some(0));
        assert_eq!(eight_digits(b"99999999x"), Some(99_999_999));
        assert_eq!(eight_digits(b"17000000"), Some(17_000_000));
        for bad in [
            b"1234567a",
            b"/2345678",
            b":2345678",
            b"1234 678",
            b"\xff2345678",
        ] {
            assert_eq!(eight_digits(bad), None, "{:?}", bad);
        }
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..100_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let s = format!("{:08}", x % 100_000_000);
            assert_eq!(eight_digits(s.as_bytes()), Some(x % 100_000_000));
            let mut bytes = x.to_le_bytes();
            bytes[(x % 8) as usize] = (x >> 8) as u8;
            let naive = bytes
                .iter()
                .all(u8::is_ascii_digit)
                .then(|| bytes.iter().fold(0, |a, &c| a * 10 + (c - b'0') as u64));
            assert_eq!(eight_digits(&bytes), naive);
        }
    }

    #[test]
    fn timestamps() {
        assert_eq!(parse_timestamp_ms("1395066363000"), Some(1395066363000));
        assert_eq!(parse_timestamp_ms("0"), Some(0));
        assert_eq!(parse_timestamp_ms("-1"), None);
        assert_eq!(parse_timestamp_ms("1.5"), None);
        assert_eq!(parse_timestamp_ms("99999999999999999999"), None);
        assert_eq!(parse_timestamp_ms("9223372036854775808"), None);
        assert_eq!(parse_timestamp_ms(""), None);

        assert_eq!(
            parse_timestamp_seconds("1520879607.789"),
            Some(1520879607789)
        );
        assert_eq!(parse_timestamp_seconds("1520879607"), Some(1520879607000));
        assert_eq!(
            parse_timestamp_seconds("1520879607.7895"),
            Some(1520879607790)
        );
        assert_eq!(parse_timestamp_seconds("-1.5"), Some(-1500));
        assert_eq!(parse_timestamp_seconds("1.5e3"), Some(1_500_000));
        assert_eq!(parse_timestamp_seconds("NaN"), None);
        assert_eq!(parse_timestamp_seconds("+Inf"), None);
        assert_eq!(parse_timestamp_seconds("1e300"), None);
        assert_eq!(parse_timestamp_seconds("x"), None);
        assert_eq!(parse_timestamp_seconds("1."), Some(1000));
    }
}
