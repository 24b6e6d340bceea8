//! Embeds the UI's built page (`node/ui/dist/`, made by `scripts/ui.sh`) when it is
//! there; without it the binary is built all the same and `weft ui` says how to build
//! the page. `dist/` always exists (it holds a README), so Cargo notices when the page
//! is built or rebuilt.

use std::path::Path;

const FILES: [&str; 4] = ["index.html", "app.js", "app.css", "data.js"];

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dist = Path::new(&manifest).join("ui").join("dist");
    println!("cargo:rerun-if-changed={}", dist.display());
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let built = FILES.iter().all(|f| dist.join(f).is_file());
    let code = if built {
        let file = |name: &str| {
            format!(
                "include_bytes!({:?})",
                dist.join(name).display().to_string()
            )
        };
        format!(
            "/// The page, as `scripts/ui.sh` built it.\npub const BUNDLE: Option<Bundle> = Some(Bundle {{ index: {}, app_js: {}, app_css: {}, data_js: {} }});\n",
            file("index.html"),
            file("app.js"),
            file("app.css"),
            file("data.js")
        )
    } else {
        "/// Not built: `scripts/ui.sh` builds it.\npub const BUNDLE: Option<Bundle> = None;\n"
            .to_string()
    };
    std::fs::write(Path::new(&out).join("ui_bundle.rs"), code).expect("OUT_DIR is writable");
}
