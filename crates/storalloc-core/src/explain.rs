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
/// Hand-rolled (days to civil date) because it sits on the decision path
/// and chrono's formatter costs more than the decision itself.
pub fn fmt_time(secs: i64) -> String {
    // Years 0..=9999 keep the fixed-width format; beyond, raw seconds.
    const MIN: i64 = -62_167_219_200; // 0000-01-01 00:00:00
    const MAX: i64 = 253_402_300_799; // 9999-12-31 23:59:59
    if !(MIN..=MAX).contains(&secs) {
        return format!("{secs} s since the epoch");
    }
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
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
        assert_eq!(fmt_time(0), "1970-01-01 00:00:00");
        assert_eq!(
            fmt_time(i64::MAX),
            format!("{} s since the epoch", i64::MAX)
        );
        // Agrees with chrono over a wide range, leap years included.
        let mut t = -62_000_000_000i64;
        while t < 253_000_000_000 {
            let c = chrono::DateTime::from_timestamp(t, 0).unwrap();
            assert_eq!(fmt_time(t), c.format("%Y-%m-%d %H:%M:%S").to_string());
            t += 7_777_777;
        }
        assert_eq!(fmt_span(300), "5 min");
        assert_eq!(fmt_span(3900), "1h 05m");
        assert_eq!(pct(0.875), "87.5%");
    }
}
