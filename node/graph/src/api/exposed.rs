//! Which files can hold what a dependent uses at all, by path: not tests, test data,
//! docs, examples, benchmarks or build scripts, and not Go's `internal/` packages (only
//! their own module may import them).

/// Whether a file's public symbols can be part of the API dependents use.
pub fn exposed(path: &str) -> bool {
    if path.ends_with(".py") || path.ends_with(".pyi") {
        return !super::python_modules::not_api(path);
    }
    let go_internal =
        path.ends_with(".go") && path.split('/').rev().skip(1).any(|d| d == "internal");
    !(sample_code(path) || go_internal || path.rsplit('/').next() == Some("build.rs"))
}

/// Whether a file is a test, test data, documentation, an example or a benchmark, by its
/// path: code that runs on made-up data, not in production.
pub fn sample_code(path: &str) -> bool {
    let mut dirs: Vec<&str> = path.split('/').collect();
    let file = dirs.pop().unwrap_or("");
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
    let python_test = file.ends_with(".py")
        && (file.starts_with("test_") || file.ends_with("_test.py") || file == "conftest.py");
    test_dir
        || python_test
        || file.ends_with("_test.go")
        || [".test.", ".spec."].iter().any(|m| file.contains(m))
}

#[cfg(test)]
mod tests {
    use super::{exposed, sample_code};

    #[test]
    fn sample_code_is_tests_examples_and_docs() {
        for path in [
            "tests/it.rs",
            "pkg/test_api.py",
            "conftest.py",
            "args_test.go",
            "src/util.test.ts",
            "examples/demo.rs",
            "docs/conf.py",
        ] {
            assert!(sample_code(path), "{path}");
        }
        for path in [
            "src/lib.rs",
            "pkg/internal/x.go",
            "setup.py",
            "app/contest.py",
        ] {
            assert!(!sample_code(path), "{path}");
        }
    }

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
