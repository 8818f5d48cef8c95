//! Shared by the agent tests that need a component (root, a QEMU guest).

/// Skips a test whose component (root, munged, chromium, a QEMU guest…) is
/// missing here, saying why. With `STORALLOC_REQUIRE_ALL=1` (CI sets it)
/// fails it instead, so that a missing component cannot pass unnoticed.
/// Returns only when skipping is allowed.
#[allow(dead_code)]
pub fn skip_or_fail(reason: &str) {
    if std::env::var("STORALLOC_REQUIRE_ALL").is_ok_and(|v| !v.is_empty() && v != "0") {
        panic!("not skipped: {reason} (STORALLOC_REQUIRE_ALL=1 forbids skipping)");
    }
    eprintln!("SKIPPED: {reason}");
}
