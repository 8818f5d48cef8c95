use super::*;
use proptest::prelude::*;

fn p(s: &str) -> Result<Bytes, UnitError> {
    s.parse()
}

#[test]
fn bare_number_is_gigabytes() {
    assert_eq!(p("200"), Ok(Bytes(200_000_000_000)));
    assert_eq!(p(" 200 "), Ok(Bytes(200_000_000_000)));
    assert_eq!(p("0"), Ok(Bytes(0)));
}

#[test]
fn every_unit_with_or_without_space() {
    let cases = [
        ("7B", 7),
        ("7 B", 7),
        ("3kB", 3_000),
        ("3KB", 3_000),
        ("3 MB", 3_000_000),
        ("3GB", 3_000_000_000),
        ("3 TB", 3_000_000_000_000),
        ("3PB", 3_000_000_000_000_000),
        ("3KiB", 3 << 10),
        ("3 MiB", 3 << 20),
        ("3GiB", 3 << 30),
        ("3 TiB", 3 << 40),
        ("3PiB", 3 << 50),
    ];
    for (s, want) in cases {
        assert_eq!(p(s), Ok(Bytes(want)), "{s}");
    }
}

#[test]
fn fractions_are_exact() {
    assert_eq!(p("1.5TB"), Ok(Bytes(1_500_000_000_000)));
    assert_eq!(p("0.1"), Ok(Bytes(100_000_000)));
    assert_eq!(p("1.1 GB"), Ok(Bytes(1_100_000_000)));
    assert_eq!(p("0.001 kB"), Ok(Bytes(1)));
    assert_eq!(p("0.5 KiB"), Ok(Bytes(512)));
    assert_eq!(p("2.93"), Ok(Bytes(2_930_000_000)));
    assert_eq!(p(".5"), Ok(Bytes(500_000_000)));
    assert_eq!(p("1e3 GB"), Ok(Bytes(1_000_000_000_000)));
    assert_eq!(
        p("1.000000000000000000000000000000000000000000"),
        Ok(Bytes(Bytes::GB))
    );
}

#[test]
fn fraction_of_a_byte_is_an_error() {
    assert_eq!(p("0.5 B"), Err(UnitError::Size("0.5 B".into())));
    assert_eq!(
        p("0.0000000001"),
        Err(UnitError::Size("0.0000000001".into()))
    );
    assert_eq!(p("0.3 KiB"), Err(UnitError::Size("0.3 KiB".into())));
}

#[test]
fn bad_input_names_the_value() {
    for s in [
        "", " ", "-5", "-0.5GB", "NaN", "nan", "inf", "abc", "12 XB", "GB", "1..5", "1.5.2", "5EB",
        "1e", "1 e3", "+", ".", "1,5",
    ] {
        let err = p(s).unwrap_err();
        assert_eq!(err, UnitError::Size(s.to_string()));
        assert!(err.to_string().contains(&format!("{s:?}")), "{err}");
    }
}

#[test]
fn overflow_is_an_error() {
    assert!(p("18446744074 GB").is_err());
    assert!(p("99999999999999999999999 PB").is_err());
    assert!(p("1e999999999999999999999").is_err());
    assert_eq!(p("18446744073709551615 B"), Ok(Bytes(u64::MAX)));
    assert!(p("18446744073709551616 B").is_err());
}

#[test]
fn display_picks_a_short_exact_form() {
    assert_eq!(Bytes(200_000_000_000).to_string(), "200 GB");
    assert_eq!(Bytes(1_500_000_000_000).to_string(), "1.5 TB");
    assert_eq!(Bytes(123_456_789).to_string(), "123456789 B");
    assert_eq!(Bytes(0).to_string(), "0 B");
    assert_eq!(Bytes(8_000_000_000_000).to_string(), "8 TB");
    assert_eq!(Bytes(500_000_000_000).to_string(), "500 GB");
    assert_eq!(Bytes(1_234_567_000_000_000).to_string(), "1234567 GB");
    assert_eq!(Bytes(1 << 30).to_string(), "1 GiB");
    assert_eq!(Bytes::from_gb(100_000_000).to_string(), "100 PB");
}

#[test]
fn checked_from_gb_overflows_to_none() {
    assert_eq!(Bytes::checked_from_gb(2), Some(Bytes(2_000_000_000)));
    assert_eq!(Bytes::checked_from_gb(u64::MAX / 1000), None);
}

proptest! {
    #[test]
    fn display_round_trips(v in any::<u64>()) {
        let shown = Bytes(v).to_string();
        prop_assert_eq!(shown.parse::<Bytes>(), Ok(Bytes(v)), "{}", shown);
    }

    #[test]
    fn display_round_trips_round_values(gb in 0u64..20_000_000, milli in 0u64..1000) {
        let v = Bytes(gb * Bytes::GB + milli * 1_000_000);
        prop_assert_eq!(v.to_string().parse::<Bytes>(), Ok(v));
    }

    #[test]
    fn arbitrary_strings_never_panic(s in any::<String>()) {
        let _ = s.parse::<Bytes>();
    }

    #[test]
    fn number_like_strings_never_panic(s in "[-+0-9.eE ]{0,30}(B|kB|KB|MB|GB|TB|PB|KiB|MiB|GiB|TiB|PiB|X)?") {
        let _ = s.parse::<Bytes>();
    }
}
