//! `register.toml` manifests (LANGUAGE.md section 9.5).

use std::collections::BTreeMap;

use crate::source::Span;

/// The parts of a manifest that resolution uses; the rest is checked and informational.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Manifest {
    pub name: String,
    pub version: String,
    /// `[exports]`: module name to a path relative to the register directory.
    pub exports: BTreeMap<String, String>,
}

/// Why a manifest is invalid: a message and the span in the manifest text it concerns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestError {
    pub message: String,
    pub span: Span,
}

const TOP_LEVEL: &[&str] = &["register", "dependencies", "exports", "metadata"];
const REGISTER_KEYS: &[&str] = &[
    "name",
    "version",
    "description",
    "authors",
    "license",
    "repository",
];

/// Parses and checks a manifest.
pub fn parse(text: &str) -> Result<Manifest, ManifestError> {
    let table: toml::Table = toml::from_str(text).map_err(|err| {
        let span = err
            .span()
            .map(|it| Span::new(it.start as u32, it.start as u32 + 1))
            .unwrap_or_default();
        let message = err
            .message()
            .lines()
            .next()
            .unwrap_or("")
            .trim()
            .to_string();
        ManifestError {
            message: format!("invalid TOML: {message}"),
            span,
        }
    })?;
    let at = |key: &str| key_span(text, key);
    for key in table.keys() {
        if !TOP_LEVEL.contains(&key.as_str()) {
            return Err(ManifestError {
                message: format!(
                    "unknown table `{key}` (expected register, dependencies, exports or metadata)"
                ),
                span: at(key),
            });
        }
    }
    let Some(register) = table.get("register") else {
        return Err(ManifestError {
            message: "missing the `[register]` table".into(),
            span: Span::default(),
        });
    };
    let Some(register) = register.as_table() else {
        return Err(ManifestError {
            message: "`register` must be a table".into(),
            span: at("register"),
        });
    };
    for key in register.keys() {
        if !REGISTER_KEYS.contains(&key.as_str()) {
            return Err(ManifestError {
                message: format!("unknown key `{key}` in `[register]`"),
                span: at(key),
            });
        }
    }
    let string = |key: &str| -> Result<String, ManifestError> {
        match register.get(key) {
            Some(toml::Value::String(it)) => Ok(it.clone()),
            Some(_) => Err(ManifestError {
                message: format!("`register.{key}` must be a string"),
                span: at(key),
            }),
            None => Err(ManifestError {
                message: format!("missing the required key `register.{key}`"),
                span: at("register"),
            }),
        }
    };
    let name = string("name")?;
    let version = string("version")?;
    if !is_semver(&version) {
        return Err(ManifestError {
            message: format!("`register.version` must be a semantic version, found `{version}`"),
            span: at("version"),
        });
    }
    for section in ["dependencies", "exports"] {
        match table.get(section) {
            None => {}
            Some(toml::Value::Table(entries)) => {
                for (key, value) in entries {
                    if !value.is_str() {
                        return Err(ManifestError {
                            message: format!("`{section}.{key}` must be a string"),
                            span: at(key),
                        });
                    }
                }
            }
            Some(_) => {
                return Err(ManifestError {
                    message: format!("`{section}` must be a table"),
                    span: at(section),
                })
            }
        }
    }
    if table.get("metadata").is_some_and(|it| !it.is_table()) {
        return Err(ManifestError {
            message: "`metadata` must be a table".into(),
            span: at("metadata"),
        });
    }
    let exports = table
        .get("exports")
        .and_then(toml::Value::as_table)
        .map(|entries| {
            entries
                .iter()
                .filter_map(|(key, value)| Some((key.clone(), value.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default();
    Ok(Manifest {
        name,
        version,
        exports,
    })
}

/// `MAJOR.MINOR.PATCH` with optional `-pre` and `+build` parts.
fn is_semver(text: &str) -> bool {
    let core = text.split(['-', '+']).next().unwrap_or("");
    let rest = &text[core.len()..];
    let parts: Vec<&str> = core.split('.').collect();
    let numeric = |part: &&str| {
        !part.is_empty()
            && part.bytes().all(|b| b.is_ascii_digit())
            && (part.len() == 1 || !part.starts_with('0'))
    };
    let extra_ok = rest
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'+' | b'.'))
        && rest.len() != 1;
    parts.len() == 3 && parts.iter().all(numeric) && extra_ok
}

/// The span of the first occurrence of `key` at the start of a line (a key or a table
/// header), for messages; the start of the file when it is not found.
fn key_span(text: &str, key: &str) -> Span {
    let mut offset = 0usize;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        let body = trimmed.trim_start_matches('[');
        let skipped = trimmed.len() - body.len();
        if body.starts_with(key) && body[key.len()..].trim_start().starts_with(['=', ']', '.']) {
            let start = (offset + indent + skipped) as u32;
            return Span::new(start, start + key.len() as u32);
        }
        offset += line.len();
    }
    Span::default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_manifest() {
        let m = parse(
            "[register]\nname = \"net\"\nversion = \"1.2.0\"\n[exports]\ntls = \"tls/mod.lig\"\n[metadata]\ntags = [\"x\"]\n",
        )
        .expect("valid");
        assert_eq!(m.name, "net");
        assert_eq!(
            m.exports.get("tls").map(String::as_str),
            Some("tls/mod.lig")
        );
    }

    #[test]
    fn invalid_manifests() {
        let cases = [
            ("[register\nname = 1", "invalid TOML"),
            ("[register]\nname = \"a\"\n", "register.version"),
            (
                "[register]\nname = \"a\"\nversion = \"1.0\"\n",
                "semantic version",
            ),
            (
                "[register]\nname = \"a\"\nversion = \"1.0.0\"\n[exports]\nx = 3\n",
                "exports.x",
            ),
            ("[registr]\nname = \"a\"\n", "unknown table"),
        ];
        for (text, needle) in cases {
            let err = parse(text).expect_err(text);
            assert!(err.message.contains(needle), "{text}: {}", err.message);
        }
        assert!(is_semver("1.2.3-beta.1+build.5"));
        assert!(!is_semver("01.2.3"));
    }
}
