use super::UnitError;
use serde::{Deserialize, Serialize};

/// A size in bytes. Exact integer arithmetic keeps calendars exact.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub struct Bytes(pub u64);

impl Bytes {
    pub const ZERO: Bytes = Bytes(0);
    pub const GB: u64 = 1_000_000_000;

    /// Whole decimal gigabytes.
    pub const fn from_gb(gb: u64) -> Bytes {
        Bytes(gb * Self::GB)
    }

    /// Gigabytes as a float, for display and bandwidth arithmetic only.
    pub fn as_gb_f64(self) -> f64 {
        self.0 as f64 / Self::GB as f64
    }

    pub const fn get(self) -> u64 {
        self.0
    }

    pub fn saturating_sub(self, other: Bytes) -> Bytes {
        Bytes(self.0.saturating_sub(other.0))
    }
}

impl std::ops::Add for Bytes {
    type Output = Bytes;
    fn add(self, rhs: Bytes) -> Bytes {
        Bytes(self.0 + rhs.0)
    }
}

impl std::ops::AddAssign for Bytes {
    fn add_assign(&mut self, rhs: Bytes) {
        self.0 += rhs.0;
    }
}

impl std::ops::Sub for Bytes {
    type Output = Bytes;
    fn sub(self, rhs: Bytes) -> Bytes {
        Bytes(self.0 - rhs.0)
    }
}

impl std::iter::Sum for Bytes {
    fn sum<I: Iterator<Item = Bytes>>(iter: I) -> Bytes {
        Bytes(iter.map(|b| b.0).sum())
    }
}

impl Bytes {
    /// Whole decimal gigabytes, or `None` if that many bytes overflow `u64`.
    pub const fn checked_from_gb(gb: u64) -> Option<Bytes> {
        match gb.checked_mul(Self::GB) {
            Some(b) => Some(Bytes(b)),
            None => None,
        }
    }

    /// Parse a size whose bare numbers are in `default_unit` bytes (the
    /// string forms are those of [`FromStr`](std::str::FromStr)). The loaders
    /// use this for fields documented in GB.
    pub fn parse_exact(s: &str, default_unit: u64) -> Result<Bytes, UnitError> {
        parse_size(s, default_unit).ok_or_else(|| UnitError::Size(s.to_string()))
    }
}

/// Decimal units, largest first: (suffix, bytes).
const DECIMAL_UNITS: [(&str, u64); 5] = [
    ("PB", 1_000_000_000_000_000),
    ("TB", 1_000_000_000_000),
    ("GB", 1_000_000_000),
    ("MB", 1_000_000),
    ("kB", 1_000),
];

/// Binary units, largest first.
const BINARY_UNITS: [(&str, u64); 5] = [
    ("PiB", 1 << 50),
    ("TiB", 1 << 40),
    ("GiB", 1 << 30),
    ("MiB", 1 << 20),
    ("KiB", 1 << 10),
];

fn unit_bytes(suffix: &str) -> Option<u64> {
    match suffix {
        "B" => Some(1),
        "KB" => Some(1_000),
        _ => DECIMAL_UNITS
            .iter()
            .chain(BINARY_UNITS.iter())
            .find(|(name, _)| *name == suffix)
            .map(|&(_, b)| b),
    }
}

/// Exponents beyond this cannot describe a size in `u64` bytes with
/// at most 38 significant digits; bounding them keeps the work bounded.
const MAX_EXP10: i64 = 80;

/// A decimal number `mantissa × 10^exp10`, read digit by digit so that
/// `1.1` is exactly eleven tenths (f64 cannot say that).
struct Decimal {
    mantissa: u128,
    exp10: i64,
}

/// Parse `[+]digits[.digits][(e|E)[+|-]digits]`. Signs other than `+`,
/// missing digits or more than 38 significant digits give `None`.
fn parse_decimal(s: &str) -> Option<Decimal> {
    let s = s.strip_prefix('+').unwrap_or(s);
    let (num, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (int_part, frac_part) = match num.split_once('.') {
        Some((i, f)) => (i, f),
        None => (num, ""),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    if !int_part
        .bytes()
        .chain(frac_part.bytes())
        .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let mut exp10: i64 = match exp {
        None => 0,
        Some(e) => {
            let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            // Clamp instead of overflowing: anything this large is out of range anyway.
            let v: i64 = digits.parse().unwrap_or(i64::MAX / 4).min(i64::MAX / 4);
            if e.starts_with('-') {
                -v
            } else {
                v
            }
        }
    };
    exp10 -= frac_part.len() as i64;
    let all = format!("{int_part}{frac_part}");
    let trimmed_lead = all.trim_start_matches('0');
    let significant = trimmed_lead.trim_end_matches('0');
    exp10 += (trimmed_lead.len() - significant.len()) as i64;
    if significant.is_empty() {
        return Some(Decimal {
            mantissa: 0,
            exp10: 0,
        });
    }
    if significant.len() > 38 {
        return None;
    }
    let mantissa: u128 = significant.parse().ok()?;
    Some(Decimal { mantissa, exp10 })
}

/// `number × unit` as whole bytes, or `None` if it is not a whole number of
/// bytes or does not fit in `u64`.
fn exact_bytes(d: Decimal, unit: u64) -> Option<u64> {
    if d.mantissa == 0 {
        return Some(0);
    }
    if d.exp10 > MAX_EXP10 || d.exp10 < -MAX_EXP10 {
        return None;
    }
    let mut m = d.mantissa;
    let mut unit = unit as u128;
    if d.exp10 >= 0 {
        let scale = 10u128.checked_pow(d.exp10 as u32)?;
        let v = m.checked_mul(scale)?.checked_mul(unit)?;
        return u64::try_from(v).ok();
    }
    // Divide by 10^k exactly: each step takes a factor 5 and a factor 2
    // from whichever of the unit and the mantissa has it.
    for _ in 0..(-d.exp10) {
        if unit.is_multiple_of(5) {
            unit /= 5;
        } else if m.is_multiple_of(5) {
            m /= 5;
        } else {
            return None;
        }
        if unit.is_multiple_of(2) {
            unit /= 2;
        } else if m.is_multiple_of(2) {
            m /= 2;
        } else {
            return None;
        }
    }
    u64::try_from(m.checked_mul(unit)?).ok()
}

fn parse_size(s: &str, default_unit: u64) -> Option<Bytes> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '+' | '-' | 'e' | 'E')))
        .unwrap_or(s.len());
    // An exponent marker followed by a unit letter ("5EB") is not a number.
    let (num, suffix) = s.split_at(split);
    let suffix = suffix.trim_start();
    let unit = if suffix.is_empty() {
        default_unit
    } else {
        unit_bytes(suffix)?
    };
    let d = parse_decimal(num.trim_end())?;
    exact_bytes(d, unit).map(Bytes)
}

impl std::str::FromStr for Bytes {
    type Err = UnitError;

    /// A bare number is GB (decimal), as in the original CLI (`-s 200`).
    fn from_str(s: &str) -> Result<Bytes, UnitError> {
        Bytes::parse_exact(s, Bytes::GB)
    }
}

impl std::fmt::Display for Bytes {
    /// The largest decimal unit in which the value reads as a short exact
    /// number (`1.5 TB`, `200 GB`); a whole binary unit (`1 GiB`) if no
    /// decimal one fits; bytes otherwise. Always parses back to the same value.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v = self.0;
        for (name, unit) in DECIMAL_UNITS {
            let milli = unit / 1000;
            if v < unit || !v.is_multiple_of(milli) {
                continue;
            }
            let whole = v / unit;
            let frac = (v % unit) / milli;
            if frac == 0 {
                return write!(f, "{whole} {name}");
            }
            if whole < 1000 {
                let digits = format!("{frac:03}");
                return write!(f, "{whole}.{} {name}", digits.trim_end_matches('0'));
            }
        }
        for (name, unit) in BINARY_UNITS {
            if v >= unit && v.is_multiple_of(unit) {
                return write!(f, "{} {name}", v / unit);
            }
        }
        write!(f, "{v} B")
    }
}

#[cfg(test)]
#[path = "size_tests.rs"]
mod tests;
