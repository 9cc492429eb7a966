//! Resolving one import path to a module (LANGUAGE.md sections 9.3 to 9.6).

use std::collections::HashMap;

use super::manifest::{self, Manifest, ManifestError};
use super::{normalize, remote, stdlib, FileSystem};
use crate::syntax::ast;

/// The root a module belongs to; relative imports must stay inside it (section 9.6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Root {
    /// The project root (a normalised directory, `.` for the working directory).
    Project(String),
    /// A register's directory.
    Register(String),
    /// The embedded standard library.
    Std,
    /// A remote root: a directory URL ending in `/` (LANGUAGE.md 9.10).
    Remote(String),
}

impl Root {
    fn dir(&self) -> &str {
        match self {
            Root::Project(dir) | Root::Register(dir) | Root::Remote(dir) => dir,
            Root::Std => stdlib::PREFIX.trim_end_matches('/'),
        }
    }
}

/// A resolved import: the module's key (its normalised path, or a `<std>/` key) and root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub key: String,
    pub root: Root,
}

/// Why an import cannot be resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImportError {
    /// M4001: nothing found; the candidates tried, in order.
    NotFound {
        path: String,
        candidates: Vec<String>,
    },
    /// M4003: a string path that is not a relative path.
    InvalidPath { path: String, reason: &'static str },
    /// M4006: a path leaving its root.
    EscapesRoot {
        path: String,
        resolved: String,
        root: String,
    },
    /// M4007: an invalid `register.toml`.
    InvalidManifest {
        manifest: String,
        text: String,
        error: ManifestError,
    },
    /// M4006: a remote module importing a register (only remote modules and `std` are
    /// within its reach).
    RemoteConfined { path: String, root: String },
}

/// Whether normalised `path` lies inside normalised directory `root`.
pub fn is_inside(path: &str, root: &str) -> bool {
    if root == "." {
        return !(path == ".." || path.starts_with("../") || path.starts_with('/'));
    }
    path == root
        || path
            .strip_prefix(root)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// The directory part of a module key (`.` for a bare file name).
pub fn dir_of(key: &str) -> &str {
    match key.rsplit_once('/') {
        Some(("", _)) => "/",
        Some((dir, _)) => dir,
        None => ".",
    }
}

fn join(dir: &str, rest: &str) -> String {
    if dir == "." {
        normalize(rest)
    } else {
        normalize(&format!("{dir}/{rest}"))
    }
}

/// M4003 unless `text` is a relative path (LANGUAGE.md 9.3).
fn check_relative(text: &str) -> Result<(), ImportError> {
    let invalid = |reason| ImportError::InvalidPath {
        path: text.to_string(),
        reason,
    };
    if text.is_empty() {
        return Err(invalid("the path is empty"));
    }
    if text.contains('\\') {
        return Err(invalid("paths use `/` as the separator, not `\\`"));
    }
    if text.starts_with('/') {
        return Err(invalid("the path is absolute"));
    }
    if !(text.starts_with("./") || text.starts_with("../")) {
        return Err(invalid(
            "a relative path starts with `./` or `../` (a register path is written without quotes)",
        ));
    }
    Ok(())
}

/// A remote path written in full (LANGUAGE.md 9.10). Its root is the importer's when the
/// importer is remote and the URL lies inside that root; otherwise the URL's directory.
fn resolve_url(root: &Root, text: &str) -> Result<Target, ImportError> {
    let url = remote::parse_url(text).map_err(|reason| ImportError::InvalidPath {
        path: text.to_string(),
        reason,
    })?;
    let key = url.key();
    let root = match root {
        Root::Remote(dir) if remote::is_inside_root(&key, dir) => dir.clone(),
        _ => url.dir(),
    };
    Ok(Target {
        key,
        root: Root::Remote(root),
    })
}

/// A relative path inside the remote module `importer` (a URL key): resolved against its
/// URL, naming exactly one `.lig` file, inside the module's remote root `dir`.
fn resolve_in_remote(importer: &str, dir: &str, text: &str) -> Result<Target, ImportError> {
    check_relative(text)?;
    if !text.ends_with(".lig") {
        return Err(ImportError::InvalidPath {
            path: text.to_string(),
            reason: "inside a remote module, a relative path names one file, ending in `.lig`",
        });
    }
    let base = remote::parse_url(importer).map_err(|reason| ImportError::InvalidPath {
        path: importer.to_string(),
        reason,
    })?;
    let key = remote::join_relative(&base, text).key();
    if !remote::is_inside_root(&key, dir) {
        return Err(ImportError::EscapesRoot {
            path: text.to_string(),
            resolved: key,
            root: dir.to_string(),
        });
    }
    Ok(Target {
        key,
        root: Root::Remote(dir.to_string()),
    })
}

/// Resolves imports against a file system and register roots, caching manifests.
pub struct Resolver<'a> {
    fs: &'a dyn FileSystem,
    register_roots: &'a [String],
    manifests: HashMap<String, Result<Option<Manifest>, ImportError>>,
}

impl<'a> Resolver<'a> {
    pub fn new(fs: &'a dyn FileSystem, register_roots: &'a [String]) -> Resolver<'a> {
        Resolver {
            fs,
            register_roots,
            manifests: HashMap::new(),
        }
    }

    /// Resolves `path`, imported by the module `importer` (a key) that belongs to `root`.
    pub fn resolve(
        &mut self,
        importer: &str,
        root: &Root,
        path: &ast::ImportPath,
    ) -> Result<Target, ImportError> {
        match path {
            ast::ImportPath::Relative(lit) if remote::is_remote(&lit.value) => {
                resolve_url(root, &lit.value)
            }
            ast::ImportPath::Relative(lit) => match root {
                Root::Remote(dir) => resolve_in_remote(importer, dir, &lit.value),
                _ => self.resolve_relative(importer, root, &lit.value),
            },
            ast::ImportPath::Register(segments) => {
                let names: Vec<&str> = segments.iter().map(|it| it.name.as_str()).collect();
                match (root, names.first()) {
                    (Root::Remote(dir), Some(first)) if !stdlib::is_std(first) => {
                        Err(ImportError::RemoteConfined {
                            path: names.join("."),
                            root: dir.clone(),
                        })
                    }
                    _ => self.resolve_register(&names),
                }
            }
        }
    }

    fn resolve_relative(
        &self,
        importer: &str,
        root: &Root,
        text: &str,
    ) -> Result<Target, ImportError> {
        check_relative(text)?;
        let joined = join(dir_of(importer), text);
        if !is_inside(&joined, root.dir()) {
            return Err(ImportError::EscapesRoot {
                path: text.to_string(),
                resolved: joined,
                root: root.dir().to_string(),
            });
        }
        let candidates = if text.ends_with(".lig") {
            vec![joined]
        } else {
            vec![format!("{joined}.lig"), join(&joined, "mod.lig")]
        };
        if *root == Root::Std {
            for candidate in &candidates {
                if stdlib::source_of_key(candidate).is_some() {
                    return Ok(Target {
                        key: candidate.clone(),
                        root: Root::Std,
                    });
                }
            }
        } else {
            for candidate in &candidates {
                if self.fs.exists(candidate) {
                    self.check_link_target(text, candidate, root.dir())?;
                    return Ok(Target {
                        key: candidate.clone(),
                        root: root.clone(),
                    });
                }
            }
        }
        Err(ImportError::NotFound {
            path: format!("\"{text}\""),
            candidates,
        })
    }

    fn resolve_register(&mut self, segments: &[&str]) -> Result<Target, ImportError> {
        let target = self.resolve_register_path(segments)?;
        if let Root::Register(dir) = &target.root {
            self.check_link_target(&segments.join("."), &target.key, dir)?;
        }
        Ok(target)
    }

    fn resolve_register_path(&mut self, segments: &[&str]) -> Result<Target, ImportError> {
        let shown = segments.join(".");
        let Some((register, rest)) = segments.split_first() else {
            return Err(ImportError::NotFound {
                path: shown,
                candidates: Vec::new(),
            });
        };
        if stdlib::is_std(register) {
            let candidates: Vec<String> = match rest {
                [name] => vec![stdlib::key(name)],
                _ => Vec::new(),
            };
            if let [name] = rest {
                if stdlib::source(name).is_some() {
                    return Ok(Target {
                        key: stdlib::key(name),
                        root: Root::Std,
                    });
                }
            }
            let mut err = ImportError::NotFound {
                path: shown,
                candidates,
            };
            if let ImportError::NotFound { candidates, .. } = &mut err {
                if candidates.is_empty() {
                    candidates.extend(
                        stdlib::MODULES
                            .iter()
                            .map(|(name, _)| format!("{} (std.{name})", stdlib::key(name))),
                    );
                }
            }
            return Err(err);
        }
        let mut candidates = Vec::new();
        let register_dir = self
            .register_roots
            .iter()
            .map(|root| join(root, register))
            .find(|dir| self.fs.is_dir(dir));
        let Some(dir) = register_dir else {
            for root in self.register_roots {
                candidates.push(format!("{}/ (register `{register}`)", join(root, register)));
            }
            return Err(ImportError::NotFound {
                path: shown,
                candidates,
            });
        };
        let root = Root::Register(dir.clone());
        let found = |fs: &dyn FileSystem, candidates: &mut Vec<String>, path: String| {
            let hit = fs.exists(&path);
            candidates.push(path.clone());
            hit.then_some(path)
        };
        // A present manifest must be valid whatever the import names (§9.5), the register
        // itself (`import conf;`) included, so it is read before anything else of the register.
        let manifest = self.manifest(&dir)?;
        let Some((first, more)) = rest.split_first() else {
            return match found(self.fs, &mut candidates, join(&dir, "mod.lig")) {
                Some(key) => Ok(Target { key, root }),
                None => Err(ImportError::NotFound {
                    path: shown,
                    candidates,
                }),
            };
        };
        if let Some(manifest) = manifest {
            if let Some(target) = manifest.exports.get(*first) {
                let base = join(&dir, target);
                if !is_inside(&base, &dir) || target.starts_with('/') {
                    return Err(ImportError::EscapesRoot {
                        path: target.clone(),
                        resolved: base,
                        root: dir,
                    });
                }
                let hit = if more.is_empty() {
                    if target.ends_with(".lig") {
                        found(self.fs, &mut candidates, base)
                    } else {
                        found(self.fs, &mut candidates, join(&base, "mod.lig"))
                    }
                } else {
                    self.plain(&base, more, &mut candidates)
                };
                return match hit {
                    Some(key) => Ok(Target { key, root }),
                    None => Err(ImportError::NotFound {
                        path: shown,
                        candidates,
                    }),
                };
            }
        }
        for base in [dir.clone(), join(&dir, "src"), join(&dir, "modules")] {
            if let Some(key) = self.plain(&base, rest, &mut candidates) {
                return Ok(Target { key, root });
            }
        }
        Err(ImportError::NotFound {
            path: shown,
            candidates,
        })
    }

    /// Where the file system has symbolic links, the resolved target must stay inside the
    /// resolved root too (M4006).
    fn check_link_target(&self, text: &str, path: &str, root: &str) -> Result<(), ImportError> {
        let (Some(real), Some(real_root)) =
            (self.fs.resolve_links(path), self.fs.resolve_links(root))
        else {
            return Ok(());
        };
        if is_inside(&normalize(&real), &normalize(&real_root)) {
            Ok(())
        } else {
            Err(ImportError::EscapesRoot {
                path: text.to_string(),
                resolved: real,
                root: real_root,
            })
        }
    }

    /// The plain rule: every segment but the last is a directory; the last names `s.lig`,
    /// or else `s/mod.lig`.
    fn plain(&self, base: &str, segments: &[&str], candidates: &mut Vec<String>) -> Option<String> {
        let path = join(base, &segments.join("/"));
        for candidate in [format!("{path}.lig"), join(&path, "mod.lig")] {
            let hit = self.fs.exists(&candidate);
            candidates.push(candidate.clone());
            if hit {
                return Some(candidate);
            }
        }
        None
    }

    fn manifest(&mut self, dir: &str) -> Result<Option<Manifest>, ImportError> {
        if let Some(cached) = self.manifests.get(dir) {
            return cached.clone();
        }
        let path = join(dir, "register.toml");
        let res = match self.fs.read(&path) {
            Err(_) => Ok(None),
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes).into_owned();
                match manifest::parse(&text) {
                    Ok(it) => Ok(Some(it)),
                    Err(error) => Err(ImportError::InvalidManifest {
                        manifest: path,
                        text,
                        error,
                    }),
                }
            }
        };
        self.manifests.insert(dir.to_string(), res.clone());
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inside_roots() {
        assert!(is_inside("a/b.lig", "."));
        assert!(!is_inside("../b.lig", "."));
        assert!(is_inside("regs/net/x.lig", "regs/net"));
        assert!(!is_inside("regs/network/x.lig", "regs/net"));
        assert_eq!(dir_of("a/b/c.lig"), "a/b");
        assert_eq!(dir_of("c.lig"), ".");
    }
}
