use super::UnitError;
use serde::{Deserialize, Serialize};

/// A bandwidth in GB/s (decimal). Always finite and non-negative once parsed.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default, Serialize, Deserialize)]
pub struct Bandwidth(pub f64);

impl Bandwidth {
    pub const fn get(self) -> f64 {
        self.0
    }

    /// A bandwidth from a number of GB/s, if it is finite and not negative.
    pub fn try_gb_per_s(v: f64) -> Option<Bandwidth> {
        if v.is_finite() && v >= 0.0 {
            // -0.0 passes `>= 0.0`; store it as 0 so it displays as "0 GB/s".
            Some(Bandwidth(v + 0.0))
        } else {
            None
        }
    }
}

fn parse_bandwidth(s: &str) -> Option<Bandwidth> {
    let s = s.trim();
    let (num, per_gb) = if let Some(n) = s.strip_suffix("GB/s") {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix("MB/s") {
        (n, 1000.0)
    } else {
        (s, 1.0)
    };
    let num = num.trim_end();
    // Only plain decimal numbers: f64's parser would also take "inf" and "NaN".
    if num.is_empty()
        || !num
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
    {
        return None;
    }
    let v: f64 = num.parse().ok()?;
    Bandwidth::try_gb_per_s(v / per_gb)
}

impl std::str::FromStr for Bandwidth {
    type Err = UnitError;

    /// `2.93`, `2.93GB/s`, `2.93 GB/s` (GB/s) or `2930 MB/s`.
    fn from_str(s: &str) -> Result<Bandwidth, UnitError> {
        parse_bandwidth(s).ok_or_else(|| UnitError::Bandwidth(s.to_string()))
    }
}

impl std::fmt::Display for Bandwidth {
    /// `2.93 GB/s`: the shortest decimal that reads back as the same f64.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} GB/s", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(s: &str) -> Result<Bandwidth, UnitError> {
        s.parse()
    }

    #[test]
    fn accepted_forms() {
        assert_eq!(p("2.93"), Ok(Bandwidth(2.93)));
        assert_eq!(p("2.93GB/s"), Ok(Bandwidth(2.93)));
        assert_eq!(p(" 2.93 GB/s "), Ok(Bandwidth(2.93)));
        assert_eq!(p("2930 MB/s"), Ok(Bandwidth(2.93)));
        assert_eq!(p("0"), Ok(Bandwidth(0.0)));
        assert_eq!(p("12"), Ok(Bandwidth(12.0)));
    }

    #[test]
    fn rejected_forms_name_the_value() {
        for s in [
            "",
            "-1",
            "-0.5 GB/s",
            "NaN",
            "nan",
            "inf",
            "-inf",
            "infinity",
            "1e999",
            "abc",
            "GB/s",
            "2.93 Gb/s",
            "2.93 TB/s",
            "1..2",
        ] {
            let err = p(s).unwrap_err();
            assert_eq!(err, UnitError::Bandwidth(s.to_string()));
            assert!(err.to_string().contains(&format!("{s:?}")));
        }
    }

    #[test]
    fn display() {
        assert_eq!(Bandwidth(2.93).to_string(), "2.93 GB/s");
        assert_eq!(Bandwidth(12.0).to_string(), "12 GB/s");
        assert_eq!(p("-0").unwrap().to_string(), "0 GB/s");
    }

    proptest! {
        #[test]
        fn display_round_trips(v in 0f64..f64::MAX) {
            prop_assert_eq!(p(&Bandwidth(v).to_string()), Ok(Bandwidth(v)));
        }

        #[test]
        fn display_round_trips_any_finite_non_negative(bits in any::<u64>()) {
            let v = f64::from_bits(bits).abs();
            prop_assume!(v.is_finite());
            prop_assert_eq!(p(&Bandwidth(v).to_string()), Ok(Bandwidth(v)));
        }

        #[test]
        fn arbitrary_strings_never_panic(s in any::<String>()) {
            let _ = p(&s);
        }
    }
}
