//! What hub and node share in reading their configuration, without I/O: the caller reads the
//! file and hands over its text and the process's environment.
//!
//! Both binaries layer the same way: built-in defaults < TOML file < `PREFIX*` environment
//! variables < command-line flags. This module gives them:
//! - [`parse_toml`]: a file's text into the caller's `#[serde(deny_unknown_fields)]` structs,
//!   so an unknown key (also inside a `[section]`) is an error naming it;
//! - [`EnvLayer`]: the `PREFIX*` variables, an unknown one being an error;
//! - [`Bounded`]: an integer setting `section.key` with its default and allowed range, taken from
//!   the highest layer that gives it and refused, naming the key and the range, when outside it
//!   (a `0` group size, a negative duration). Its variable is `PREFIX` + `SECTION_KEY`.

use serde::de::DeserializeOwned;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LayerError {
    #[error("unknown environment variable {name}: {known}")]
    UnknownEnv { name: String, known: String },
    #[error("{name}={value:?} is not valid: {why}")]
    Env {
        name: String,
        value: String,
        why: String,
    },
    #[error("{key} = {value} (from {from}) is out of range: allowed {min} to {max}{unit}")]
    Range {
        key: &'static str,
        value: i64,
        /// The layer the value came from: "the config file" or the variable's name.
        from: String,
        min: i64,
        max: i64,
        /// " seconds", " ms" or "".
        unit: &'static str,
    },
}

/// A config file's text as `T`. With `#[serde(deny_unknown_fields)]` on `T` and its sections,
/// a misspelt key is an error that names it and its line.
pub fn parse_toml<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    toml::from_str(text).map_err(|e| e.to_string().trim_end().to_string())
}

/// A config as a TOML file would say it (what `--dump-config` prints).
pub fn to_toml<T: serde::Serialize>(config: &T) -> String {
    toml::to_string(config)
        .unwrap_or_else(|e| format!("# could not print the configuration: {e}\n"))
}

/// The environment variables that start with a prefix (`CIVREG_HUB_`), by the rest of their name.
#[derive(Debug, Clone, Default)]
pub struct EnvLayer {
    prefix: String,
    vars: BTreeMap<String, String>,
}

impl EnvLayer {
    /// Keeps the variables named `prefix` + one of `known`; another variable with the prefix is
    /// an error (`hint` says what is read), except the names in `ignored` (read by others, e.g.
    /// a test harness), which are skipped.
    pub fn new(
        prefix: &str,
        known: &[String],
        ignored: &[&str],
        hint: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<EnvLayer, LayerError> {
        let mut vars = BTreeMap::new();
        for (k, v) in env {
            let Some(rest) = k.strip_prefix(prefix) else {
                continue;
            };
            if ignored.contains(&rest) {
                continue;
            }
            if !known.iter().any(|n| n == rest) {
                return Err(LayerError::UnknownEnv {
                    name: k,
                    known: hint.to_string(),
                });
            }
            vars.insert(rest.to_string(), v);
        }
        Ok(EnvLayer {
            prefix: prefix.to_string(),
            vars,
        })
    }

    /// The value of `PREFIX` + `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    /// The full name of a variable.
    pub fn name(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// A yes/no variable: 1/true/yes/on or 0/false/no/off.
    pub fn bool(&self, name: &str) -> Result<Option<bool>, LayerError> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        match v.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(Some(true)),
            "0" | "false" | "no" | "off" => Ok(Some(false)),
            _ => Err(LayerError::Env {
                name: self.name(name),
                value: v.into(),
                why: "use true or false".into(),
            }),
        }
    }

    /// A comma-separated list (`a.example,10.0.0.5`), blanks dropped.
    pub fn list(&self, name: &str) -> Option<Vec<String>> {
        self.get(name).map(|v| {
            v.split(',')
                .map(|h| h.trim().to_string())
                .filter(|h| !h.is_empty())
                .collect()
        })
    }
}

/// An integer setting of a config file's section, with its allowed range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounded {
    /// `section.key`, as the file spells it.
    pub key: &'static str,
    pub default: i64,
    pub min: i64,
    pub max: i64,
    /// " seconds", " ms" or "", for messages.
    pub unit: &'static str,
}

impl Bounded {
    /// The variable's name after the prefix: `sync.group_max_ops` → `SYNC_GROUP_MAX_OPS`.
    pub fn env_name(&self) -> String {
        self.key.replace('.', "_").to_ascii_uppercase()
    }

    /// The value from the highest layer that gives one (flag > environment > file > default),
    /// refused when outside `min..=max`.
    pub fn resolve(
        &self,
        flag: Option<i64>,
        env: &EnvLayer,
        file: Option<i64>,
    ) -> Result<i64, LayerError> {
        let var = self.env_name();
        let (value, source) = if let Some(v) = flag {
            (v, "the command line".to_string())
        } else if let Some(text) = env.get(&var) {
            let v = text.trim().parse::<i64>().map_err(|_| LayerError::Env {
                name: env.name(&var),
                value: text.to_string(),
                why: format!(
                    "{} takes a whole number from {} to {}{}",
                    self.key, self.min, self.max, self.unit
                ),
            })?;
            (v, env.name(&var))
        } else if let Some(v) = file {
            (v, "the config file".to_string())
        } else {
            return Ok(self.default);
        };
        if value < self.min || value > self.max {
            return Err(LayerError::Range {
                key: self.key,
                value,
                from: source,
                min: self.min,
                max: self.max,
                unit: self.unit,
            });
        }
        Ok(value)
    }

    /// [`Self::resolve`] as an unsigned number (every range here starts at 0 or above).
    pub fn resolve_u64(
        &self,
        flag: Option<i64>,
        env: &EnvLayer,
        file: Option<i64>,
    ) -> Result<u64, LayerError> {
        debug_assert!(self.min >= 0);
        self.resolve(flag, env, file).map(|v| v.max(0) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const N: Bounded = Bounded {
        key: "sync.group_max_ops",
        default: 4096,
        min: 1,
        max: 100_000,
        unit: "",
    };

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn layer(pairs: &[(&str, &str)]) -> Result<EnvLayer, LayerError> {
        EnvLayer::new(
            "APP_",
            &["DATA_DIR".to_string(), N.env_name()],
            &["BIN"],
            "the app reads APP_DATA_DIR",
            env(pairs),
        )
    }

    #[test]
    fn layers_and_ranges() {
        assert_eq!(N.env_name(), "SYNC_GROUP_MAX_OPS");
        let none = layer(&[("OTHER", "1"), ("APP_BIN", "/x")]).unwrap();
        assert_eq!(N.resolve(None, &none, None), Ok(4096));
        assert_eq!(N.resolve(None, &none, Some(7)), Ok(7));
        let e = layer(&[("APP_SYNC_GROUP_MAX_OPS", " 9 ")]).unwrap();
        assert_eq!(N.resolve(None, &e, Some(7)), Ok(9));
        assert_eq!(N.resolve(Some(11), &e, Some(7)), Ok(11));
        let zero = N.resolve(None, &none, Some(0)).unwrap_err();
        assert_eq!(
            zero.to_string(),
            "sync.group_max_ops = 0 (from the config file) is out of range: allowed 1 to 100000"
        );
        let neg = layer(&[("APP_SYNC_GROUP_MAX_OPS", "-5")]).unwrap();
        let err = N.resolve(None, &neg, None).unwrap_err().to_string();
        assert!(
            err.contains("APP_SYNC_GROUP_MAX_OPS") && err.contains("-5"),
            "{err}"
        );
        let word = layer(&[("APP_SYNC_GROUP_MAX_OPS", "many")]).unwrap();
        let err = N.resolve(None, &word, None).unwrap_err().to_string();
        assert!(
            err.contains("sync.group_max_ops takes a whole number"),
            "{err}"
        );
    }

    #[test]
    fn unknown_variables_and_keys_are_named() {
        let err = layer(&[("APP_DATADIR", "x")]).unwrap_err();
        assert!(
            matches!(&err, LayerError::UnknownEnv { name, .. } if name == "APP_DATADIR"),
            "{err}"
        );
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Section {
            group_max_ops: Option<i64>,
        }
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct File {
            sync: Option<Section>,
        }
        let err = parse_toml::<File>("[sync]\ngroup_max_opz = 3\n").unwrap_err();
        assert!(err.contains("group_max_opz"), "{err}");
        assert!(parse_toml::<File>("[sync]\ngroup_max_ops = 3\n").is_ok());
        let l = layer(&[("APP_DATA_DIR", "a, b,,c")]).unwrap();
        assert_eq!(l.list("DATA_DIR").unwrap(), ["a", "b", "c"]);
        assert!(l.bool("DATA_DIR").is_err());
    }
}
