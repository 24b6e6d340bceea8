//! Reading package manifests: the dependencies `Cargo.toml`, `package.json`,
//! `pyproject.toml`, `requirements*.txt` and `go.mod` declare, with their version
//! requirements and non-registry sources.

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
        _ => Ok(Parsed {
            dependencies: parse_requirements(&text, requirements_kind(name)),
            ..Parsed::default()
        }),
    });
    let (parsed, error) = match parsed {
        Ok(parsed) => (parsed, None),
        Err(e) => (Parsed::default(), Some(e)),
    };
    Manifest {
        path: rel.to_string(),
        ecosystem,
        package: parsed.package,
        version: parsed.version,
        dependencies: parsed.dependencies,
        error,
    }
}

#[derive(Default)]
struct Parsed {
    package: Option<String>,
    version: Option<String>,
    dependencies: Vec<Declared>,
}

fn declared(name: &str, kind: &str) -> Declared {
    Declared {
        name: name.to_string(),
        kind: kind.into(),
        requirement: None,
        source: None,
        package: None,
    }
}

fn text_of(value: Option<&toml::Value>) -> Option<String> {
    value.and_then(toml::Value::as_str).map(str::to_string)
}

/// A Cargo (or Poetry) dependency value: `"1.2"` or `{ version, path, git, workspace,
/// package }`.
fn toml_dependency(name: &str, kind: &str, value: &toml::Value) -> Declared {
    let mut d = declared(name, kind);
    match value {
        toml::Value::String(req) => d.requirement = Some(req.clone()),
        toml::Value::Table(t) => {
            d.requirement = text_of(t.get("version"));
            d.package = text_of(t.get("package"));
            d.source = ["path", "git", "workspace"]
                .into_iter()
                .find(|key| t.contains_key(*key))
                .map(str::to_string);
        }
        _ => {}
    }
    d
}

fn toml_table_dependencies(table: Option<&toml::Value>, kind: &str, out: &mut Vec<Declared>) {
    if let Some(table) = table.and_then(toml::Value::as_table) {
        out.extend(table.iter().map(|(k, v)| toml_dependency(k, kind, v)));
    }
}

fn parse_cargo(text: &str) -> Result<Parsed, String> {
    let doc: toml::Value = toml::from_str(text).map_err(|e| e.to_string())?;
    let package = doc.get("package");
    let mut deps = Vec::new();
    let mut add = |table: &toml::Value| {
        for (key, kind) in [
            ("dependencies", "normal"),
            ("dev-dependencies", "dev"),
            ("build-dependencies", "build"),
        ] {
            toml_table_dependencies(table.get(key), kind, &mut deps);
        }
    };
    add(&doc);
    if let Some(targets) = doc.get("target").and_then(toml::Value::as_table) {
        targets.values().for_each(&mut add);
    }
    Ok(Parsed {
        package: text_of(package.and_then(|p| p.get("name"))),
        version: text_of(package.and_then(|p| p.get("version"))),
        dependencies: deps,
    })
}

/// An npm dependency's specifier: a range, or a `file:`/`link:`/`workspace:`/git source.
fn npm_dependency(name: &str, kind: &str, spec: &str) -> Declared {
    let mut d = declared(name, kind);
    let source = if spec.starts_with("file:") || spec.starts_with("link:") {
        Some("path")
    } else if spec.starts_with("workspace:") {
        Some("workspace")
    } else if spec.starts_with("git")
        || spec.starts_with("github:")
        || spec.contains("://")
        || spec.contains(".git#")
    {
        Some("git")
    } else {
        None
    };
    d.source = source.map(str::to_string);
    if source.is_none() {
        d.requirement = Some(spec.to_string());
    }
    d
}

fn parse_package_json(text: &str) -> Result<Parsed, String> {
    let doc: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let field = |key: &str| doc.get(key).and_then(|v| v.as_str()).map(str::to_string);
    let mut deps = Vec::new();
    for (key, kind) in [
        ("dependencies", "normal"),
        ("devDependencies", "dev"),
        ("peerDependencies", "peer"),
        ("optionalDependencies", "optional"),
    ] {
        if let Some(table) = doc.get(key).and_then(|v| v.as_object()) {
            for (name, spec) in table {
                deps.push(npm_dependency(name, kind, spec.as_str().unwrap_or("")));
            }
        }
    }
    Ok(Parsed {
        package: field("name"),
        version: field("version"),
        dependencies: deps,
    })
}

/// A PEP 508 requirement (`requests[socks]>=2; python_version<"4"`, `lib @ file:///x`):
/// name, version specifier and source.
fn requirement(spec: &str, kind: &str) -> Option<Declared> {
    let spec = spec.split(';').next().unwrap_or("").trim();
    let end = spec
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'))
        .unwrap_or(spec.len());
    let name = &spec[..end];
    if name.is_empty() {
        return None;
    }
    let mut rest = spec[end..].trim_start();
    if rest.starts_with('[') {
        rest = rest.split_once(']').map_or("", |(_, r)| r).trim_start();
    }
    let mut d = declared(name, kind);
    if let Some(url) = rest.strip_prefix('@') {
        let url = url.trim();
        d.source = Some(
            if url.starts_with("file:") {
                "path"
            } else {
                "git"
            }
            .into(),
        );
    } else if !rest.is_empty() {
        d.requirement = Some(rest.replace(' ', ""));
    }
    Some(d)
}

fn parse_pyproject(text: &str) -> Result<Parsed, String> {
    let doc: toml::Value = toml::from_str(text).map_err(|e| e.to_string())?;
    let project = doc.get("project");
    let poetry = doc.get("tool").and_then(|t| t.get("poetry"));
    let specs = |v: Option<&toml::Value>, kind: &str| -> Vec<Declared> {
        v.and_then(toml::Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().and_then(|s| requirement(s, kind)))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut deps = specs(project.and_then(|p| p.get("dependencies")), "normal");
    if let Some(extras) = project
        .and_then(|p| p.get("optional-dependencies"))
        .and_then(toml::Value::as_table)
    {
        for list in extras.values() {
            deps.extend(specs(Some(list), "optional"));
        }
    }
    let mut poetry_deps = Vec::new();
    toml_table_dependencies(
        poetry.and_then(|p| p.get("dependencies")),
        "normal",
        &mut poetry_deps,
    );
    deps.extend(poetry_deps.into_iter().filter(|d| d.name != "python"));
    let field = |key: &str| {
        text_of(project.and_then(|p| p.get(key)))
            .or_else(|| text_of(poetry.and_then(|p| p.get(key))))
    };
    Ok(Parsed {
        package: field("name"),
        version: field("version"),
        dependencies: deps,
    })
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
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty() && !l.starts_with('-'))
        .filter_map(|l| requirement(l, kind))
        .collect()
}

fn parse_go_mod(text: &str) -> Parsed {
    let mut module = None;
    let mut deps: Vec<Declared> = Vec::new();
    let mut replaced = Vec::new();
    let mut block = "";
    for line in text.lines() {
        let line = line.split("//").next().unwrap_or("").trim();
        if let Some(rest) = line.strip_prefix("module ") {
            module = Some(rest.trim().trim_matches('"').to_string());
        } else if let Some(open) = line.strip_suffix('(') {
            block = match open.trim() {
                "require" => "require",
                "replace" => "replace",
                _ => "other",
            };
        } else if !block.is_empty() && line == ")" {
            block = "";
        } else if let Some(req) = line
            .strip_prefix("require ")
            .or((block == "require").then_some(line))
        {
            let mut words = req.split_whitespace().map(|w| w.trim_matches('"'));
            if let Some(path) = words.next() {
                let mut d = declared(path, "normal");
                d.requirement = words.next().map(str::to_string);
                deps.push(d);
            }
        } else if let Some(rep) = line
            .strip_prefix("replace ")
            .or((block == "replace").then_some(line))
        {
            // `old [version] => new [version]`: a directory (starting `.` or `/`) is a path.
            if let Some((old, new)) = rep.split_once("=>") {
                let old = old.split_whitespace().next().unwrap_or("").to_string();
                let new = new.trim();
                let local = new.starts_with('.') || new.starts_with('/');
                replaced.push((old, local));
            }
        }
    }
    for (old, local) in replaced {
        if let Some(d) = deps.iter_mut().find(|d| d.name == old) {
            d.source = Some(if local { "path" } else { "replace" }.into());
        }
    }
    Parsed {
        package: module,
        version: None,
        dependencies: deps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(deps: &[Declared]) -> Vec<(&str, &str, Option<&str>, Option<&str>)> {
        deps.iter()
            .map(|d| {
                (
                    d.name.as_str(),
                    d.kind.as_str(),
                    d.requirement.as_deref(),
                    d.source.as_deref(),
                )
            })
            .collect()
    }

    #[test]
    fn cargo_declarations_keep_requirements_sources_and_renames() {
        let parsed = parse_cargo(
            "[package]\nname='a-b'\nversion='0.3.1'\n[dependencies]\nserde='1'\nup={ path='../up', version='2.0' }\nold={ package='up', version='=1.0.0' }\nws={ workspace=true }\n[dev-dependencies]\ntempfile='3'\n[target.'cfg(unix)'.dependencies]\nlibc='0.2'\n",
        )
        .expect("cargo");
        assert_eq!(parsed.package.as_deref(), Some("a-b"));
        assert_eq!(parsed.version.as_deref(), Some("0.3.1"));
        assert_eq!(
            summary(&parsed.dependencies),
            [
                ("old", "normal", Some("=1.0.0"), None),
                ("serde", "normal", Some("1"), None),
                ("up", "normal", Some("2.0"), Some("path")),
                ("ws", "normal", None, Some("workspace")),
                ("tempfile", "dev", Some("3"), None),
                ("libc", "normal", Some("0.2"), None),
            ]
        );
        assert_eq!(parsed.dependencies[0].package_name(), "up");
    }

    #[test]
    fn npm_python_and_go_declarations() {
        let parsed = parse_package_json(
            r#"{"name":"web","version":"1.0.0","dependencies":{"up":"^2.1.0","local":"file:../local","ws":"workspace:*","g":"github:o/r"},"devDependencies":{"jest":"29"}}"#,
        )
        .expect("package.json");
        assert_eq!(parsed.version.as_deref(), Some("1.0.0"));
        assert_eq!(
            summary(&parsed.dependencies),
            [
                ("up", "normal", Some("^2.1.0"), None),
                ("local", "normal", None, Some("path")),
                ("ws", "normal", None, Some("workspace")),
                ("g", "normal", None, Some("git")),
                ("jest", "dev", Some("29"), None),
            ]
        );
        assert!(parse_package_json("{not json").is_err());

        let parsed = parse_pyproject(
            "[project]\nname='x'\nversion='0.1'\ndependencies=['requests[socks] >= 2, <3; python_version<\"4\"', 'PyYAML==6', 'up @ file:///src/up']\n[project.optional-dependencies]\ndev=['pytest']\n",
        )
        .expect("pyproject");
        assert_eq!(parsed.version.as_deref(), Some("0.1"));
        assert_eq!(
            summary(&parsed.dependencies),
            [
                ("requests", "normal", Some(">=2,<3"), None),
                ("PyYAML", "normal", Some("==6"), None),
                ("up", "normal", None, Some("path")),
                ("pytest", "optional", None, None),
            ]
        );
        assert_eq!(requirements_kind("requirements-dev.txt"), "dev");
        assert_eq!(requirements_kind("requirements.txt"), "normal");
        let reqs = parse_requirements("# c\nnumpy>=1.2\n-r other.txt\nflask # web\n", "normal");
        assert_eq!(
            summary(&reqs),
            [
                ("numpy", "normal", Some(">=1.2"), None),
                ("flask", "normal", None, None)
            ]
        );

        let parsed = parse_go_mod(
            "module example.com/m\n\ngo 1.22\n\nrequire (\n\tgithub.com/a/b v1.0.0\n\tgolang.org/x/c v0.1.0 // indirect\n)\nrequire github.com/d/e v2.0.0\nreplace github.com/a/b => ../b\nreplace (\n\tgithub.com/d/e v2.0.0 => github.com/f/e v2.0.1\n)\n",
        );
        assert_eq!(parsed.package.as_deref(), Some("example.com/m"));
        assert_eq!(
            summary(&parsed.dependencies),
            [
                ("github.com/a/b", "normal", Some("v1.0.0"), Some("path")),
                ("golang.org/x/c", "normal", Some("v0.1.0"), None),
                ("github.com/d/e", "normal", Some("v2.0.0"), Some("replace")),
            ]
        );
    }
}
