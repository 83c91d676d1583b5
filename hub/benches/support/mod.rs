//! What every hub benchmark shares: where and when it was measured, and writing its section of
//! BENCHMARKS.md between its markers.

/// Today's date and the short commit, for the section's first line.
pub fn measured() -> (time::Date, String) {
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    (time::OffsetDateTime::now_utc().date(), commit)
}

/// Replaces the text between `<!-- NAME:begin -->` and `<!-- NAME:end -->` in BENCHMARKS.md
/// (appending the block when the markers are missing).
pub fn write_section(name: &str, section: &str) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../BENCHMARKS.md");
    let text = std::fs::read_to_string(path).unwrap_or_else(|_| "# Benchmarks\n".into());
    let (b, e) = (
        format!("<!-- {name}:begin -->"),
        format!("<!-- {name}:end -->"),
    );
    let block = format!("{b}\n{section}{e}");
    let new = match (text.find(&b), text.find(&e)) {
        (Some(i), Some(j)) if j > i => format!("{}{}{}", &text[..i], block, &text[j + e.len()..]),
        _ => format!("{}\n{}\n", text.trim_end(), block),
    };
    std::fs::write(path, new).expect("write BENCHMARKS.md");
}
