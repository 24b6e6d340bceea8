//! JavaScript and TypeScript imports to files: relative specifiers (`./util`,
//! `../lib/index.js`) tried as TypeScript resolves them (the extension swaps and `index`
//! files of [`crate::api::typescript::surface::candidates`]). Bare specifiers are
//! packages, not edges; `tsconfig` path aliases are not followed.

use super::{join, parent_dir, EdgeKind, Repo, Resolved};
use crate::api::typescript::surface::{candidates, is_declaration_file, normalise};
use crate::scan::ScannedFile;

/// The files `file`'s relative imports name.
pub(super) fn resolve(repo: &Repo<'_>, file: &ScannedFile) -> Vec<Resolved> {
    let dir = parent_dir(&file.path);
    let from_declaration = is_declaration_file(&file.path);
    file.facts
        .imports
        .iter()
        .filter(|i| {
            let spec = i.module.as_str();
            spec == "." || spec == ".." || spec.starts_with("./") || spec.starts_with("../")
        })
        .filter_map(|import| {
            let base = normalise(&join(dir, &import.module))?;
            let to = candidates(&base, from_declaration)
                .into_iter()
                .find(|c| repo.has(c))?;
            Some(Resolved {
                to,
                kind: EdgeKind::Import,
                line: import.line,
                module: import.module.clone(),
                names: import.names.clone(),
                whole: false,
                into_descendant: false,
            })
        })
        .collect()
}
