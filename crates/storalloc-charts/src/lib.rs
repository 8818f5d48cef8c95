//! The chart builders shared by the orchestrator's live dashboard and the
//! simulator's `report.html`, so both draw the same charts from one file.
//!
//! `assets/charts.js` defines `window.StorallocCharts`: `capacityBars`,
//! `gantt`, `lineChart`, `barChart`, the helpers `fmtBytes`, `fmtTime`,
//! `esc`, and the default stylesheet as the string `css`. Every chart
//! function returns an SVG string and touches no DOM, and the script loads
//! nothing, so a page that inlines it stays self-contained.

/// The chart builders; inline in a `<script>` element or serve as-is.
pub const CHARTS_JS: &str = include_str!("../assets/charts.js");

/// `json` made safe to inline in a `<script>` element: `<` only occurs in
/// JSON inside strings, where `\u003c` means the same, and without it a
/// `</script>` or `<!--` in the data would end or derail the element.
pub fn script_json(json: &str) -> String {
    json.replace('<', "\\u003c")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_defines_every_chart_builder() {
        assert!(CHARTS_JS.contains("root.StorallocCharts = {"));
        for f in [
            "capacityBars",
            "gantt",
            "lineChart",
            "barChart",
            "fmtBytes",
            "css",
        ] {
            assert!(
                CHARTS_JS.contains(&format!("{f}: {f}")),
                "{f} is not exported"
            );
        }
        assert!(!CHARTS_JS.contains("</script"));
    }

    #[test]
    fn inlined_json_cannot_close_its_script_element() {
        let s = script_json(r#"{"host":"a</script><!--b"}"#);
        assert!(!s.contains('<'));
        assert_eq!(s, r#"{"host":"a\u003c/script>\u003c!--b"}"#);
    }
}
