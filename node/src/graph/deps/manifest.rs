//! Reading package manifests: the dependencies `Cargo.toml`, `package.json`,
//! `pyproject.toml`, `requirements*.txt` and `go.mod` declare.

use super::{Declared, Ecosystem, Manifest};

pub(super) fn parse_manifest(rel: &str, name: &str, text: Result<String, String>) -> Manifest {
    let ecosystem = match name {
        "Cargo.toml" => Ecosystem::Cargo,
        "package.json" => Ecosystem::Npm,
        "go.mod" => Ecosystem::Go,
        _ => Ecosystem::Python,
    };
    let parsed = text.and_then(|text| match name {
        "Cargo.toml" => parse_cargo(&text),
        "package.json" => parse_package_json(&text),
        "pyproject.toml" => parse_pyproject(&text),
        "go.mod" => Ok(parse_go_mod(&text)),
        _ => Ok((None, parse_requirements(&text, requirements_kind(name)))),
    });
    let (package, dependencies, error) = match parsed {
        Ok((package, deps)) => (package, deps, None),
        Err(e) => (None, Vec::new(), Some(e)),
    };
    Manifest {
        path: rel.to_string(),
        ecosystem,
        package,
        dependencies,
        error,
    }
}

type Parsed = (Option<String>, Vec<Declared>);

fn declared(names: impl IntoIterator<Item = String>, kind: &str) -> Vec<Declared> {
    names
        .into_iter()
        .map(|name| Declared {
            name,
            kind: kind.into(),
        })
        .collect()
}

fn table_keys(value: Option<&toml::Value>) -> Vec<String> {
    value
        .and_then(toml::Value::as_table)
        .map(|t| t.keys().cloned().collect())
        .unwrap_or_default()
}

fn parse_cargo(text: &str) -> Result<Parsed, String> {
    let doc: toml::Value = toml::from_str(text).map_err(|e| e.to_string())?;
    let package = doc
        .get("package")
        .and_then(|p| p.get("name"))
        .and_then(toml::Value::as_str)
        .map(str::to_string);
    let mut deps = Vec::new();
    let mut add = |table: &toml::Value| {
        for (key, kind) in [
            ("dependencies", "normal"),
            ("dev-dependencies", "dev"),
            ("build-dependencies", "build"),
        ] {
            deps.extend(declared(table_keys(table.get(key)), kind));
        }
    };
    add(&doc);
    if let Some(targets) = doc.get("target").and_then(toml::Value::as_table) {
        targets.values().for_each(&mut add);
    }
    Ok((package, deps))
}

fn parse_package_json(text: &str) -> Result<Parsed, String> {
    let doc: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let package = doc.get("name").and_then(|v| v.as_str()).map(str::to_string);
    let mut deps = Vec::new();
    for (key, kind) in [
        ("dependencies", "normal"),
        ("devDependencies", "dev"),
        ("peerDependencies", "peer"),
        ("optionalDependencies", "optional"),
    ] {
        let names = doc
            .get(key)
            .and_then(|v| v.as_object())
            .map(|o| o.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default();
        deps.extend(declared(names, kind));
    }
    Ok((package, deps))
}

/// The distribution name of a PEP 508 requirement (`requests[socks]>=2; python_version<"4"`).
fn requirement_name(spec: &str) -> Option<String> {
    let spec = spec.trim();
    let end = spec
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'))
        .unwrap_or(spec.len());
    let name = &spec[..end];
    (!name.is_empty()).then(|| name.to_string())
}

fn parse_pyproject(text: &str) -> Result<Parsed, String> {
    let doc: toml::Value = toml::from_str(text).map_err(|e| e.to_string())?;
    let project = doc.get("project");
    let package = project
        .and_then(|p| p.get("name"))
        .and_then(toml::Value::as_str)
        .map(str::to_string);
    let specs = |v: Option<&toml::Value>| -> Vec<String> {
        v.and_then(toml::Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().and_then(requirement_name))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut deps = declared(specs(project.and_then(|p| p.get("dependencies"))), "normal");
    if let Some(extras) = project
        .and_then(|p| p.get("optional-dependencies"))
        .and_then(toml::Value::as_table)
    {
        for list in extras.values() {
            deps.extend(declared(specs(Some(list)), "optional"));
        }
    }
    let poetry = doc.get("tool").and_then(|t| t.get("poetry"));
    let poetry_deps = table_keys(poetry.and_then(|p| p.get("dependencies")));
    deps.extend(declared(
        poetry_deps.into_iter().filter(|n| n != "python"),
        "normal",
    ));
    Ok((package, deps))
}

/// `requirements-dev.txt`, `requirements_test.txt`, ...: tools for people and CI, which
/// the code does not import.
fn requirements_kind(file_name: &str) -> &'static str {
    let stem = file_name.trim_end_matches(".txt").to_ascii_lowercase();
    let tooling = [
        "dev", "develop", "test", "tests", "testing", "doc", "docs", "lint", "ci", "build",
        "typing", "types",
    ];
    if stem
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|word| tooling.contains(&word))
    {
        "dev"
    } else {
        "normal"
    }
}

fn parse_requirements(text: &str, kind: &str) -> Vec<Declared> {
    let names = text
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty() && !l.starts_with('-'))
        .filter_map(requirement_name);
    declared(names, kind)
}

fn parse_go_mod(text: &str) -> Parsed {
    let mut module = None;
    let mut deps = Vec::new();
    let mut in_block = false;
    for line in text.lines() {
        let line = line.split("//").next().unwrap_or("").trim();
        if let Some(rest) = line.strip_prefix("module ") {
            module = Some(rest.trim().trim_matches('"').to_string());
        } else if line.starts_with("require (") {
            in_block = true;
        } else if in_block && line == ")" {
            in_block = false;
        } else if let Some(req) = line.strip_prefix("require ").or(in_block.then_some(line)) {
            if let Some(path) = req.split_whitespace().next() {
                deps.push(Declared {
                    name: path.trim_matches('"').to_string(),
                    kind: "normal".into(),
                });
            }
        }
    }
    (module, deps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_parse() {
        let (pkg, deps) = parse_cargo(
            "[package]\nname='a-b'\n[dependencies]\nserde='1'\n[dev-dependencies]\ntempfile='3'\n[target.'cfg(unix)'.dependencies]\nlibc='0.2'\n",
        )
        .expect("cargo");
        assert_eq!(pkg.as_deref(), Some("a-b"));
        let got: Vec<(&str, &str)> = deps
            .iter()
            .map(|d| (d.name.as_str(), d.kind.as_str()))
            .collect();
        assert_eq!(
            got,
            [("serde", "normal"), ("tempfile", "dev"), ("libc", "normal")]
        );
        let (_, deps) = parse_pyproject(
            "[project]\nname='x'\ndependencies=['requests[socks]>=2; python_version<\"4\"', 'PyYAML==6']\n[project.optional-dependencies]\ndev=['pytest']\n",
        )
        .expect("pyproject");
        let got: Vec<&str> = deps.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(got, ["requests", "PyYAML", "pytest"]);
        assert_eq!(requirements_kind("requirements-dev.txt"), "dev");
        assert_eq!(requirements_kind("requirements.txt"), "normal");
        let reqs = parse_requirements("# c\nnumpy>=1.2\n-r other.txt\nflask # web\n", "normal");
        assert_eq!(
            reqs.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(),
            ["numpy", "flask"]
        );
        let (module, deps) = parse_go_mod(
            "module example.com/m\n\ngo 1.22\n\nrequire (\n\tgithub.com/a/b v1.0.0\n\tgolang.org/x/c v0.1.0 // indirect\n)\nrequire github.com/d/e v2.0.0\n",
        );
        assert_eq!(module.as_deref(), Some("example.com/m"));
        assert_eq!(
            deps.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(),
            ["github.com/a/b", "golang.org/x/c", "github.com/d/e"]
        );
        assert!(parse_package_json("{not json").is_err());
    }
}
