//! The standard library `std` (alias `stdlib`), embedded in the binary with `include_str!`
//! so that a lone executable or wasm file needs no files on disk (LANGUAGE.md section 10).

/// The key prefix of standard-library modules in the module graph and in diagnostics. It
/// cannot collide with a project path: no relative import produces a `<`.
pub const PREFIX: &str = "<std>/";

/// The modules of `std`, by the name used in `import std.NAME`.
pub const MODULES: &[(&str, &str)] = &[
    ("core", include_str!("../std/core.lig")),
    ("collections", include_str!("../std/collections.lig")),
    ("validation", include_str!("../std/validation.lig")),
];

/// Whether a register name denotes the standard library.
pub fn is_std(register: &str) -> bool {
    register == "std" || register == "stdlib"
}

/// The source of `std.NAME`.
pub fn source(name: &str) -> Option<&'static str> {
    MODULES
        .iter()
        .find(|(module, _)| *module == name)
        .map(|(_, text)| *text)
}

/// The text of a module key produced by [`key`], if it is a standard-library key.
pub fn source_of_key(key: &str) -> Option<&'static str> {
    key.strip_prefix(PREFIX)
        .and_then(|rest| rest.strip_suffix(".lig"))
        .and_then(source)
}

/// The module key of `std.NAME`.
pub fn key(name: &str) -> String {
    format!("{PREFIX}{name}.lig")
}
