//! Formatting for the human-readable explanations attached to decisions.

use crate::units::Bytes;

/// A size for people: whole GB when exact, else GB with up to 3 decimals.
pub fn fmt_bytes(b: Bytes) -> String {
    let gb = Bytes::GB;
    let (whole, rest) = (b.0 / gb, b.0 % gb);
    if rest == 0 {
        return format!("{whole} GB");
    }
    if b.0 >= gb / 1000 {
        let s = format!("{:.3}", b.as_gb_f64());
        let s = s.trim_end_matches('0').trim_end_matches('.');
        return format!("{s} GB");
    }
    format!("{} B", b.0)
}

pub(crate) fn fmt_bytes_i(b: i64) -> String {
    fmt_bytes(Bytes(b.max(0) as u64))
}

/// An instant as `YYYY-MM-DD HH:MM:SS` (UTC), the original's format.
pub fn fmt_time(secs: i64) -> String {
    match chrono::DateTime::from_timestamp(secs, 0) {
        Some(t) => t.format("%Y-%m-%d %H:%M:%S").to_string(),
        None => format!("{secs} s since the epoch"),
    }
}

/// A length of time as `1h 05m`, `5 min` or `42 s`.
pub fn fmt_span(secs: i64) -> String {
    let secs = secs.max(0);
    if secs < 60 {
        format!("{secs} s")
    } else if secs < 3600 && secs % 60 == 0 {
        format!("{} min", secs / 60)
    } else if secs < 3600 {
        format!("{} min {} s", secs / 60, secs % 60)
    } else {
        let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
        if s == 0 {
            format!("{h}h {m:02}m")
        } else {
            format!("{h}h {m:02}m {s:02}s")
        }
    }
}

/// A fraction as a percentage with one decimal.
pub fn pct(f: f64) -> String {
    format!("{:.1}%", f * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(fmt_bytes(Bytes::from_gb(500)), "500 GB");
        assert_eq!(fmt_bytes(Bytes(1_500_000_000)), "1.5 GB");
        assert_eq!(fmt_bytes(Bytes(12)), "12 B");
        assert_eq!(fmt_time(1_704_103_200), "2024-01-01 10:00:00");
        assert_eq!(fmt_span(300), "5 min");
        assert_eq!(fmt_span(3900), "1h 05m");
        assert_eq!(pct(0.875), "87.5%");
    }
}
