//! The page `weft ui` serves, embedded at build time by `node/build.rs` from
//! `node/ui/dist/` (built by `scripts/ui.sh`), or absent from a binary built without it.

/// The page's four files.
#[derive(Debug, Clone, Copy)]
pub struct Bundle {
    /// `index.html`.
    pub index: &'static [u8],
    /// The application script (a classic script: it must also run from `file://`).
    pub app_js: &'static [u8],
    /// The style sheet.
    pub app_css: &'static [u8],
    /// The data script of a live server: `window.WEFT_DATA = null;` (an export writes
    /// the answers there instead).
    pub data_js: &'static [u8],
}

include!(concat!(env!("OUT_DIR"), "/ui_bundle.rs"));

/// The embedded page, or how to get one.
pub fn bundle() -> Result<Bundle, String> {
    BUNDLE.ok_or_else(|| {
        "this weft was built without its web page: run `bash scripts/ui.sh` (needs npm) and build weft again (`cargo build`)".to_string()
    })
}
