//! Files whose changes say nothing about how the code is coupled: lockfiles, changelogs and
//! generated or minified artefacts. They change with almost everything (a lockfile with
//! every manifest edit, a changelog with every user-visible fix), so as co-change partners
//! they crowd out the files a change really needs.

/// Lockfiles of the package managers weft knows, by file name.
const LOCKFILES: [&str; 20] = [
    "Cargo.lock",
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "bun.lockb",
    "go.sum",
    "go.work.sum",
    "poetry.lock",
    "Pipfile.lock",
    "uv.lock",
    "pdm.lock",
    "Gemfile.lock",
    "composer.lock",
    "flake.lock",
    "mix.lock",
    "pubspec.lock",
    "Podfile.lock",
    "packages.lock.json",
    "gradle.lockfile",
];

/// Stems (lowercased) of changelogs and release notes, with a prose extension or none.
const CHANGELOG_STEMS: [&str; 8] = [
    "changelog",
    "changes",
    "history",
    "news",
    "release-notes",
    "release_notes",
    "releasenotes",
    "releases",
];

/// Extensions a changelog may have.
const PROSE_EXTENSIONS: [&str; 6] = ["", "md", "markdown", "rst", "txt", "adoc"];

/// Name endings of generated or minified files.
const GENERATED_SUFFIXES: [&str; 9] = [
    ".min.js",
    ".min.css",
    ".js.map",
    ".css.map",
    ".pb.go",
    "_pb2.py",
    "_pb2_grpc.py",
    ".g.dart",
    ".designer.cs",
];

/// Whether changes to the file at `path` (repository-relative, `/`-separated) are left out
/// of co-change coupling: a lockfile (`Cargo.lock`, `package-lock.json`, `go.sum`, …), a
/// changelog or release notes (`CHANGELOG.md`, `HISTORY.rst`, `NEWS`, …; a `history.rs` is
/// code and counts), or a generated or minified file (`*.min.js`, `*.pb.go`, `*_pb2.py`,
/// source maps, …).
pub fn is_noise(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    if LOCKFILES.contains(&name) {
        return true;
    }
    let lower = name.to_ascii_lowercase();
    let (stem, ext) = match lower.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => (stem, ext),
        _ => (lower.as_str(), ""),
    };
    if CHANGELOG_STEMS.contains(&stem) && PROSE_EXTENSIONS.contains(&ext) {
        return true;
    }
    GENERATED_SUFFIXES.iter().any(|s| lower.ends_with(s))
}

#[cfg(test)]
mod tests {
    use super::is_noise;

    #[test]
    fn lockfiles_changelogs_and_generated_files_are_noise() {
        for path in [
            "Cargo.lock",
            "web/package-lock.json",
            "go.sum",
            "CHANGELOG.md",
            "docs/HISTORY.rst",
            "NEWS",
            "Changes",
            "static/app.min.js",
            "api/v1/service.pb.go",
            "proto/service_pb2.py",
        ] {
            assert!(is_noise(path), "{path} is noise");
        }
        for path in [
            "src/history.rs",
            "src/lib.rs",
            "Cargo.toml",
            "package.json",
            "go.mod",
            "README.md",
            "news/feed.py",
            "lock.rs",
            ".changes",
        ] {
            assert!(!is_noise(path), "{path} is not noise");
        }
    }
}
