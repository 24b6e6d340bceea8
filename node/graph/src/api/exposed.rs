//! Which files can hold what a dependent uses at all, by path: not tests, test data,
//! docs, examples, benchmarks or build scripts, and not Go's `internal/` packages (only
//! their own module may import them).

/// Whether a file's public symbols can be part of the API dependents use.
pub fn exposed(path: &str) -> bool {
    let mut dirs: Vec<&str> = path.split('/').collect();
    let file = dirs.pop().unwrap_or("");
    if path.ends_with(".py") || path.ends_with(".pyi") {
        return !super::python_modules::not_api(path);
    }
    let test_dir = dirs.iter().any(|d| {
        matches!(
            *d,
            "tests"
                | "test"
                | "testdata"
                | "__tests__"
                | "benches"
                | "benchmarks"
                | "examples"
                | "example"
                | "docs"
        )
    });
    let go_internal = path.ends_with(".go") && dirs.contains(&"internal");
    let test_file = file.ends_with("_test.go")
        || [".test.", ".spec."].iter().any(|m| file.contains(m))
        || file == "build.rs";
    !(test_dir || go_internal || test_file)
}

#[cfg(test)]
mod tests {
    use super::exposed;

    #[test]
    fn tests_internal_packages_and_examples_are_not_exposed() {
        for path in [
            "args_test.go",
            "internal/flags/f.go",
            "pkg/internal/x.go",
            "testdata/a.go",
            "tests/it.rs",
            "benches/b.rs",
            "build.rs",
            "src/util.test.ts",
            "__tests__/a.js",
            "tests/test_api.py",
            "docs/conf.py",
        ] {
            assert!(!exposed(path), "{path}");
        }
        for path in [
            "args.go",
            "src/lib.rs",
            "src/index.ts",
            "pkg/client.py",
            "src/internal.rs",
        ] {
            assert!(exposed(path), "{path}");
        }
    }
}
