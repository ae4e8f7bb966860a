//! Boot modules: from what the user typed to QEMU's `-initrd` string.
//!
//! A module is written `"path arg1 arg2"`. QEMU's Multiboot loader takes
//! `-initrd "m1,m2,…"`, splits it at commas (a literal comma is written `,,`),
//! loads each entry's first word as a file and hands the kernel the whole
//! entry, path included, as that module's command line — the program's argv.
//! The path cannot hold a space (QEMU cuts the file name at the first space),
//! so such a path is refused; commas are escaped.
//!
//! The first word is a path, or the name of a user program: [`ModuleResolver`]
//! looks a word without a `/` (that is not a file here) up in its
//! `programs_dir`, by default where `cargo xtask build` puts the programs.

use std::path::PathBuf;

use crate::error::{Error, Result};

/// One boot module, resolved: an existing file and the rest of its command
/// line (may be empty).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Module {
    /// Absolute path of the file QEMU loads.
    pub path: PathBuf,
    /// Everything after the file name, whitespace-trimmed (`"arg1 arg2"`).
    pub args: String,
}

impl Module {
    /// The command line the kernel sees for this module: `"path args"`.
    pub fn cmdline(&self) -> String {
        let path = self.path.display().to_string();
        if self.args.is_empty() {
            path
        } else {
            format!("{path} {}", self.args)
        }
    }
}

/// Turns module specs (`"prog arg1 arg2"`) into [`Module`]s.
#[derive(Clone, Debug)]
pub struct ModuleResolver {
    /// Where program names (words without a `/`) are looked up: a bare name
    /// `echo` means `programs_dir/echo`. `None`: paths only.
    pub programs_dir: Option<PathBuf>,
}

impl Default for ModuleResolver {
    /// Program names resolve to the built user programs.
    fn default() -> Self {
        ModuleResolver {
            programs_dir: Some(crate::image::user_programs_dir()),
        }
    }
}

impl ModuleResolver {
    /// Resolve one spec. The first word names the file (relative paths are
    /// taken from the current directory), the rest is kept as the arguments.
    pub fn resolve(&self, spec: &str) -> Result<Module> {
        let (word, args) = split_spec(spec)?;
        let path = self.find(word)?;
        let path = path
            .canonicalize()
            .map_err(|e| Error::Module(format!("cannot resolve {}: {e}", path.display())))?;
        if !path.is_file() {
            return Err(Error::Module(format!("{} is not a file", path.display())));
        }
        let text = path
            .to_str()
            .ok_or_else(|| Error::Module(format!("path {} is not valid UTF-8", path.display())))?;
        if text.chars().any(char::is_whitespace) {
            return Err(Error::Module(format!(
                "path {text:?} contains whitespace; QEMU's multiboot loader cuts the file \
                 name at the first space: move or link the file to a path without spaces"
            )));
        }
        Ok(Module {
            path,
            args: args.to_string(),
        })
    }

    /// Resolve every spec, in order.
    pub fn resolve_all<S: AsRef<str>>(&self, specs: &[S]) -> Result<Vec<Module>> {
        specs.iter().map(|s| self.resolve(s.as_ref())).collect()
    }

    fn find(&self, word: &str) -> Result<PathBuf> {
        let direct = PathBuf::from(word);
        if word.contains('/') || direct.exists() {
            if direct.exists() {
                return Ok(direct);
            }
            return Err(Error::Module(format!("no such file: {word}")));
        }
        match &self.programs_dir {
            Some(dir) => {
                let candidate = dir.join(word);
                if candidate.is_file() {
                    Ok(candidate)
                } else {
                    Err(Error::Module(format!(
                        "no program {word:?} in {} (and no file of that name here)",
                        dir.display()
                    )))
                }
            }
            None => Err(Error::Module(format!(
                "no such file: {word} (modules are given by path, e.g. ./{word} or /abs/{word})"
            ))),
        }
    }
}

/// Split `"path  arg1 arg2 "` into `("path", "arg1 arg2")`.
pub fn split_spec(spec: &str) -> Result<(&str, &str)> {
    let spec = spec.trim();
    if spec.is_empty() {
        return Err(Error::Module("empty module spec".into()));
    }
    if spec.contains(['\n', '\r', '\0']) {
        return Err(Error::Module(format!(
            "module spec {spec:?} contains a newline or NUL"
        )));
    }
    Ok(match spec.split_once(char::is_whitespace) {
        Some((word, rest)) => (word, rest.trim()),
        None => (spec, ""),
    })
}

/// Escape one entry for `-initrd`: QEMU reads `,,` as a literal comma.
pub fn escape_initrd_entry(entry: &str) -> String {
    entry.replace(',', ",,")
}

/// The `-initrd` value for these modules, or `None` when there are none.
pub fn initrd_arg(modules: &[Module]) -> Option<String> {
    if modules.is_empty() {
        return None;
    }
    Some(
        modules
            .iter()
            .map(|m| escape_initrd_entry(&m.cmdline()))
            .collect::<Vec<_>>()
            .join(","),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn temp_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-mod-{tag}-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn split_keeps_args_verbatim_but_trimmed() {
        assert_eq!(split_spec("/a/b").unwrap(), ("/a/b", ""));
        assert_eq!(split_spec("  /a/b  x  y ").unwrap(), ("/a/b", "x  y"));
        assert_eq!(split_spec("/a\tx").unwrap(), ("/a", "x"));
        assert!(split_spec("   ").is_err());
        assert!(split_spec("/a x\ny").is_err());
    }

    #[test]
    fn initrd_joins_and_escapes_commas() {
        let m = |p: &str, a: &str| Module {
            path: PathBuf::from(p),
            args: a.into(),
        };
        assert_eq!(initrd_arg(&[]), None);
        assert_eq!(initrd_arg(&[m("/p1", "")]).unwrap(), "/p1");
        assert_eq!(
            initrd_arg(&[m("/p1", "a b"), m("/p2", "")]).unwrap(),
            "/p1 a b,/p2"
        );
        assert_eq!(
            initrd_arg(&[m("/p,1", "x,y"), m("/p2", "z")]).unwrap(),
            "/p,,1 x,,y,/p2 z"
        );
    }

    #[test]
    fn resolve_makes_paths_absolute_and_checks_them() {
        let dir = temp_dir("resolve");
        let file = dir.join("prog");
        fs::write(&file, b"x").unwrap();
        let r = ModuleResolver { programs_dir: None };
        let m = r.resolve(&format!("{} 1 2", file.display())).unwrap();
        assert!(m.path.is_absolute());
        assert_eq!(m.args, "1 2");
        assert_eq!(
            m.cmdline(),
            format!("{} 1 2", file.canonicalize().unwrap().display())
        );
        assert!(r.resolve(&format!("{}/missing", dir.display())).is_err());
        assert!(
            r.resolve(&dir.display().to_string()).is_err(),
            "a folder is no module"
        );
        // A bare name is not found without a programs folder...
        let err = r.resolve("prog-name-that-does-not-exist").unwrap_err();
        assert!(err.to_string().contains("by path"), "{err}");
        // ...and is found in one.
        let r = ModuleResolver {
            programs_dir: Some(dir.clone()),
        };
        let m = r.resolve("prog arg").unwrap();
        assert_eq!(m.path, file.canonicalize().unwrap());
        assert_eq!(m.args, "arg");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn paths_with_spaces_are_refused() {
        let dir = temp_dir("space");
        let file = dir.join("has space");
        fs::write(&file, b"x").unwrap();
        // Only reachable through the programs folder (a spec splits at spaces).
        let r = ModuleResolver {
            programs_dir: Some(dir.join("has space")),
        };
        assert!(r.resolve("x").is_err());
        let sub = dir.join("sp ace");
        fs::create_dir_all(&sub).unwrap();
        fs::write(sub.join("p"), b"x").unwrap();
        let r = ModuleResolver {
            programs_dir: Some(sub.clone()),
        };
        let err = r.resolve("p").unwrap_err();
        assert!(err.to_string().contains("whitespace"), "{err}");
        fs::remove_dir_all(&dir).unwrap();
    }
}
