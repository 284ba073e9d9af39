//! The one typed configuration, resolved from layers of `key = value` pairs
//! (built-in defaults, an optional TOML file, `TAQUILLA_*` environment
//! variables, command-line flags) and validated before anything starts.
//!
//! Reading the environment and the file is the caller's work; this module is
//! pure, so every rule here is tested without touching the process.
//!
//! | key | env | default |
//! | --- | --- | --- |
//! | `data_dir` | `TAQUILLA_DATA_DIR` | `./var` |
//! | `store` | `TAQUILLA_STORE` | `sqlite://{data_dir}/taquilla.db` |
//! | `blobs` | `TAQUILLA_BLOBS` | `file://{data_dir}/blobs` |
//! | `mail` | `TAQUILLA_MAIL` | `file://{data_dir}/outbox` |
//! | `bind` | `TAQUILLA_BIND` | `127.0.0.1` |
//! | `port` | `TAQUILLA_PORT` | `8080` |
//! | `public_url` | `TAQUILLA_PUBLIC_URL` | `http://{bind}:{port}` |
//! | `aws_region` | `TAQUILLA_AWS_REGION` | `eu-west-1` |
//! | `aws_endpoint_url` | `TAQUILLA_AWS_ENDPOINT_URL` | none (AWS itself) |
//! | `log_format` | `TAQUILLA_LOG_FORMAT` | `text` (or `json`) |
//!
//! Adapters are chosen by URL scheme: `sqlite://path` or
//! `dynamodb://table`; `file://path` or `s3://bucket/prefix`; `file://path`
//! or `ses://region`. AWS URLs take `?region=...&endpoint=...` to override
//! the global AWS settings (e.g. for a local emulator).

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use thiserror::Error;

/// Every key the configuration knows.
pub const KEYS: &[&str] = &[
    "data_dir",
    "store",
    "blobs",
    "mail",
    "bind",
    "port",
    "public_url",
    "aws_region",
    "aws_endpoint_url",
    "log_format",
];

/// Prefix of the environment variables: `TAQUILLA_` + the key in capitals.
pub const ENV_PREFIX: &str = "TAQUILLA_";

/// A configuration key whose value is wrong, or a key nobody knows.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("configuration {key} (from {origin}): {message}")]
pub struct ConfigError {
    /// The key as its origin spells it (`TAQUILLA_STORE`, `store`, `--port`).
    pub key: String,
    /// Where the value came from (environment, a file, a flag, default).
    pub origin: String,
    pub message: String,
}

/// One source of settings, in the order they apply (later wins).
#[derive(Debug, Clone, Default)]
pub struct Layer {
    /// Describes the source in errors: "environment", "/etc/taquilla.toml", ...
    pub origin: String,
    values: BTreeMap<String, (String, String)>,
}

impl Layer {
    #[must_use]
    pub fn new(origin: impl Into<String>) -> Self {
        Self {
            origin: origin.into(),
            values: BTreeMap::new(),
        }
    }

    /// Adds `key` (spelled `spelling` in its source) with `value`.
    pub fn insert(&mut self, key: &str, spelling: &str, value: impl Into<String>) {
        self.values
            .insert(key.to_owned(), (spelling.to_owned(), value.into()));
    }

    /// The `TAQUILLA_*` variables among `vars`. Variables with the prefix that
    /// name no key are returned apart, so the caller can warn about them.
    pub fn from_env(vars: impl IntoIterator<Item = (String, String)>) -> (Self, Vec<String>) {
        let mut layer = Layer::new("environment");
        let mut unknown = Vec::new();
        for (name, value) in vars {
            let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            let key = rest.to_ascii_lowercase();
            if KEYS.contains(&key.as_str()) {
                layer.insert(&key, &name, value);
            } else if !IGNORED_ENV.contains(&rest) {
                unknown.push(name);
            }
        }
        (layer, unknown)
    }

    /// The settings of a TOML document; unknown keys and non-scalar values are errors.
    pub fn from_toml(origin: &str, text: &str) -> Result<Self, ConfigError> {
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| ConfigError {
            key: "(file)".into(),
            origin: origin.into(),
            message: format!("not valid TOML: {}", e.message()),
        })?;
        let mut layer = Layer::new(origin);
        for (key, value) in table {
            if !KEYS.contains(&key.as_str()) {
                return Err(ConfigError {
                    key,
                    origin: origin.into(),
                    message: format!("unknown key; known keys are {}", KEYS.join(", ")),
                });
            }
            let text = match value {
                toml::Value::String(s) => s,
                toml::Value::Integer(n) => n.to_string(),
                other => {
                    return Err(ConfigError {
                        key,
                        origin: origin.into(),
                        message: format!(
                            "expected a string or a number, found {}",
                            other.type_str()
                        ),
                    });
                }
            };
            layer.insert(&key.clone(), &key, text);
        }
        Ok(layer)
    }
}

/// Variables with our prefix that are not configuration keys but are known
/// (secrets and tooling), so they draw no warning.
const IGNORED_ENV: &[&str] = &["CONFIG", "MASTER_KEY", "LOG", "MOTO_PYTHON"];

/// Where items are stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreUrl {
    Sqlite { path: PathBuf },
    Dynamo { table: String, aws: AwsTarget },
}

/// Where blobs are stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlobsUrl {
    File {
        path: PathBuf,
    },
    S3 {
        bucket: String,
        prefix: String,
        aws: AwsTarget,
    },
}

/// Where outbound mail goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailUrl {
    File { path: PathBuf },
    Ses { aws: AwsTarget },
}

/// The AWS region and endpoint an adapter talks to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsTarget {
    pub region: String,
    /// `None` for AWS itself; a URL for an emulator.
    pub endpoint_url: Option<String>,
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// The validated configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub store: StoreUrl,
    pub blobs: BlobsUrl,
    pub mail: MailUrl,
    pub bind: IpAddr,
    pub port: u16,
    /// Base URL of the server as browsers reach it, without a trailing slash.
    pub public_url: String,
    pub log_format: LogFormat,
}

impl Settings {
    /// Whether every adapter is the embedded default (everything under a local directory).
    #[must_use]
    pub fn is_embedded(&self) -> bool {
        matches!(self.store, StoreUrl::Sqlite { .. })
            && matches!(self.blobs, BlobsUrl::File { .. })
            && matches!(self.mail, MailUrl::File { .. })
    }
}

impl fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreUrl::Sqlite { path } => write!(f, "sqlite://{}", path.display()),
            StoreUrl::Dynamo { table, aws } => write!(f, "dynamodb://{table} ({aws})"),
        }
    }
}

impl fmt::Display for BlobsUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BlobsUrl::File { path } => write!(f, "file://{}", path.display()),
            BlobsUrl::S3 {
                bucket,
                prefix,
                aws,
            } => write!(f, "s3://{bucket}/{prefix} ({aws})"),
        }
    }
}

impl fmt::Display for MailUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MailUrl::File { path } => write!(f, "file://{}", path.display()),
            MailUrl::Ses { aws } => write!(f, "ses ({aws})"),
        }
    }
}

impl fmt::Display for AwsTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.endpoint_url {
            Some(endpoint) => write!(f, "{} at {endpoint}", self.region),
            None => f.write_str(&self.region),
        }
    }
}

/// The layers merged, later layers winning key by key.
struct Merged<'a> {
    values: BTreeMap<&'a str, (&'a str, &'a str, &'a str)>,
}

impl<'a> Merged<'a> {
    fn new(layers: &'a [Layer]) -> Self {
        let mut values = BTreeMap::new();
        for layer in layers {
            for (key, (spelling, value)) in &layer.values {
                values.insert(
                    key.as_str(),
                    (spelling.as_str(), layer.origin.as_str(), value.as_str()),
                );
            }
        }
        Self { values }
    }

    fn get(&self, key: &str) -> Option<&'a str> {
        self.values.get(key).map(|(_, _, v)| *v)
    }

    fn error(&self, key: &str, message: impl Into<String>) -> ConfigError {
        let (spelling, origin) = self
            .values
            .get(key)
            .map_or((key, "default"), |(s, o, _)| (*s, *o));
        ConfigError {
            key: spelling.to_owned(),
            origin: origin.to_owned(),
            message: message.into(),
        }
    }
}

/// Resolves and validates the settings from `layers` (lowest priority first).
pub fn resolve(layers: &[Layer]) -> Result<Settings, ConfigError> {
    let m = Merged::new(layers);

    let data_dir = PathBuf::from(m.get("data_dir").unwrap_or("var"));
    if data_dir.as_os_str().is_empty() {
        return Err(m.error("data_dir", "must not be empty"));
    }
    let aws_region = m.get("aws_region").unwrap_or("eu-west-1").to_owned();
    if aws_region.is_empty() {
        return Err(m.error("aws_region", "must not be empty"));
    }
    let aws_endpoint = match m.get("aws_endpoint_url") {
        Some(url) => Some(http_url(url).map_err(|e| m.error("aws_endpoint_url", e))?),
        None => None,
    };
    let aws = AwsTarget {
        region: aws_region,
        endpoint_url: aws_endpoint,
    };

    let store = match m.get("store") {
        None => StoreUrl::Sqlite {
            path: data_dir.join("taquilla.db"),
        },
        Some(url) => parse_store(url, &aws).map_err(|e| m.error("store", e))?,
    };
    let blobs = match m.get("blobs") {
        None => BlobsUrl::File {
            path: data_dir.join("blobs"),
        },
        Some(url) => parse_blobs(url, &aws).map_err(|e| m.error("blobs", e))?,
    };
    let mail = match m.get("mail") {
        None => MailUrl::File {
            path: data_dir.join("outbox"),
        },
        Some(url) => parse_mail(url, &aws).map_err(|e| m.error("mail", e))?,
    };
    let bind: IpAddr = m.get("bind").unwrap_or("127.0.0.1").parse().map_err(|_| {
        m.error(
            "bind",
            "expected an IP address such as 127.0.0.1 or 0.0.0.0",
        )
    })?;
    let port: u16 = m
        .get("port")
        .unwrap_or("8080")
        .parse()
        .map_err(|_| m.error("port", "expected a port number from 0 to 65535"))?;
    let public_url = match m.get("public_url") {
        Some(url) => http_url(url).map_err(|e| m.error("public_url", e))?,
        None => {
            let host = if bind.is_unspecified() {
                "127.0.0.1".to_owned()
            } else if bind.is_ipv6() {
                format!("[{bind}]")
            } else {
                bind.to_string()
            };
            format!("http://{host}:{port}")
        }
    };
    let log_format = match m.get("log_format").unwrap_or("text") {
        "text" => LogFormat::Text,
        "json" => LogFormat::Json,
        _ => return Err(m.error("log_format", "expected text or json")),
    };
    Ok(Settings {
        data_dir,
        store,
        blobs,
        mail,
        bind,
        port,
        public_url,
        log_format,
    })
}

fn http_url(url: &str) -> Result<String, String> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(|| format!("expected an http:// or https:// URL, found {url:?}"))?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err(format!("the URL {url:?} has no host"));
    }
    Ok(url.trim_end_matches('/').to_owned())
}

/// `scheme://rest?query` split into its parts.
fn split_url(url: &str) -> Result<(&str, &str, BTreeMap<String, String>), String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| format!("expected a URL such as scheme://..., found {url:?}"))?;
    let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
    let mut params = BTreeMap::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        params.insert(percent_decode(k)?, percent_decode(v)?);
    }
    Ok((scheme, rest, params))
}

fn percent_decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("bad percent-escape in {text:?}"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("{text:?} is not UTF-8 once decoded"))
}

/// The AWS target of a URL: its `region`/`endpoint` parameters over the global ones.
fn aws_target(
    mut params: BTreeMap<String, String>,
    global: &AwsTarget,
) -> Result<AwsTarget, String> {
    let region = params
        .remove("region")
        .unwrap_or_else(|| global.region.clone());
    let endpoint_url = match params.remove("endpoint") {
        Some(url) => Some(http_url(&url)?),
        None => global.endpoint_url.clone(),
    };
    if let Some(unknown) = params.keys().next() {
        return Err(format!(
            "unknown parameter {unknown:?}; AWS URLs take region and endpoint"
        ));
    }
    Ok(AwsTarget {
        region,
        endpoint_url,
    })
}

fn local_path(rest: &str, params: &BTreeMap<String, String>) -> Result<PathBuf, String> {
    if rest.is_empty() {
        return Err("the URL has no path".into());
    }
    if let Some(unknown) = params.keys().next() {
        return Err(format!("unknown parameter {unknown:?}"));
    }
    Ok(Path::new(rest).to_path_buf())
}

fn aws_name(rest: &str, what: &str) -> Result<String, String> {
    let valid = !rest.is_empty()
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if valid {
        Ok(rest.to_owned())
    } else {
        Err(format!("{rest:?} is not a valid {what} name"))
    }
}

fn parse_store(url: &str, aws: &AwsTarget) -> Result<StoreUrl, String> {
    let (scheme, rest, params) = split_url(url)?;
    match scheme {
        "sqlite" => Ok(StoreUrl::Sqlite {
            path: local_path(rest, &params)?,
        }),
        "dynamodb" => Ok(StoreUrl::Dynamo {
            table: aws_name(rest, "DynamoDB table")?,
            aws: aws_target(params, aws)?,
        }),
        other => Err(format!(
            "unsupported scheme {other:?}: expected sqlite:// or dynamodb://"
        )),
    }
}

fn parse_blobs(url: &str, aws: &AwsTarget) -> Result<BlobsUrl, String> {
    let (scheme, rest, params) = split_url(url)?;
    match scheme {
        "file" => Ok(BlobsUrl::File {
            path: local_path(rest, &params)?,
        }),
        "s3" => {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            Ok(BlobsUrl::S3 {
                bucket: aws_name(bucket, "S3 bucket")?,
                prefix: prefix.trim_matches('/').to_owned(),
                aws: aws_target(params, aws)?,
            })
        }
        other => Err(format!(
            "unsupported scheme {other:?}: expected file:// or s3://"
        )),
    }
}

fn parse_mail(url: &str, aws: &AwsTarget) -> Result<MailUrl, String> {
    let (scheme, rest, mut params) = split_url(url)?;
    match scheme {
        "file" => Ok(MailUrl::File {
            path: local_path(rest, &params)?,
        }),
        "ses" => {
            if !rest.is_empty() {
                params.insert("region".into(), rest.to_owned());
            }
            Ok(MailUrl::Ses {
                aws: aws_target(params, aws)?,
            })
        }
        other => Err(format!(
            "unsupported scheme {other:?}: expected file:// or ses://"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Layer {
        Layer::from_env(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        )
        .0
    }

    #[test]
    fn defaults_are_the_embedded_run_under_var() {
        let s = resolve(&[]).unwrap();
        assert_eq!(s.data_dir, PathBuf::from("var"));
        assert_eq!(
            s.store,
            StoreUrl::Sqlite {
                path: PathBuf::from("var/taquilla.db")
            }
        );
        assert!(s.is_embedded());
        assert_eq!(s.public_url, "http://127.0.0.1:8080");
    }

    #[test]
    fn the_data_dir_moves_every_local_default() {
        let s = resolve(&[env(&[("TAQUILLA_DATA_DIR", "/srv/t")])]).unwrap();
        assert_eq!(
            s.blobs,
            BlobsUrl::File {
                path: PathBuf::from("/srv/t/blobs")
            }
        );
        assert_eq!(
            s.mail,
            MailUrl::File {
                path: PathBuf::from("/srv/t/outbox")
            }
        );
    }

    #[test]
    fn aws_urls_take_global_settings_and_their_own_overrides() {
        let s = resolve(&[env(&[
            ("TAQUILLA_STORE", "dynamodb://taquilla-prod"),
            (
                "TAQUILLA_BLOBS",
                "s3://att-bucket/inst/a?endpoint=http://127.0.0.1:5000",
            ),
            ("TAQUILLA_MAIL", "ses://us-east-1"),
            ("TAQUILLA_AWS_REGION", "eu-south-2"),
        ])])
        .unwrap();
        assert_eq!(
            s.store,
            StoreUrl::Dynamo {
                table: "taquilla-prod".into(),
                aws: AwsTarget {
                    region: "eu-south-2".into(),
                    endpoint_url: None
                }
            }
        );
        assert_eq!(
            s.blobs,
            BlobsUrl::S3 {
                bucket: "att-bucket".into(),
                prefix: "inst/a".into(),
                aws: AwsTarget {
                    region: "eu-south-2".into(),
                    endpoint_url: Some("http://127.0.0.1:5000".into())
                }
            }
        );
        assert_eq!(
            s.mail,
            MailUrl::Ses {
                aws: AwsTarget {
                    region: "us-east-1".into(),
                    endpoint_url: None
                }
            }
        );
        assert!(!s.is_embedded());
    }

    #[test]
    fn errors_name_the_key_as_its_source_spells_it() {
        let err = resolve(&[env(&[("TAQUILLA_STORE", "mysql://x")])]).unwrap_err();
        assert_eq!(err.key, "TAQUILLA_STORE");
        assert_eq!(err.origin, "environment");
        assert!(err.message.contains("mysql"), "{err}");

        let err = resolve(&[env(&[("TAQUILLA_PORT", "80808")])]).unwrap_err();
        assert_eq!(err.key, "TAQUILLA_PORT");

        let mut flags = Layer::new("command line");
        flags.insert("bind", "--bind", "localhost");
        let err = resolve(&[flags]).unwrap_err();
        assert_eq!(err.key, "--bind");
        assert!(err.to_string().contains("--bind (from command line)"));
    }

    #[test]
    fn later_layers_win() {
        let file = Layer::from_toml("taquilla.toml", "port = 9000\nbind = \"0.0.0.0\"").unwrap();
        let mut flags = Layer::new("command line");
        flags.insert("port", "--port", "9100");
        let s = resolve(&[file, flags]).unwrap();
        assert_eq!(s.port, 9100);
        assert_eq!(s.bind.to_string(), "0.0.0.0");
        assert_eq!(s.public_url, "http://127.0.0.1:9100");
    }

    #[test]
    fn toml_files_refuse_unknown_keys_and_tables() {
        let err = Layer::from_toml("t.toml", "prot = 1").unwrap_err();
        assert_eq!(err.key, "prot");
        assert!(err.message.contains("unknown key"));
        let err = Layer::from_toml("t.toml", "[store]\nx = 1").unwrap_err();
        assert_eq!(err.key, "store");
        let err = Layer::from_toml("t.toml", "port = ").unwrap_err();
        assert!(err.message.contains("not valid TOML"));
    }

    #[test]
    fn unknown_environment_variables_are_reported_apart() {
        let (_, unknown) = Layer::from_env([
            ("TAQUILLA_PROT".to_owned(), "1".to_owned()),
            ("TAQUILLA_MASTER_KEY".to_owned(), "x".to_owned()),
            ("HOME".to_owned(), "/root".to_owned()),
        ]);
        assert_eq!(unknown, vec!["TAQUILLA_PROT".to_owned()]);
    }

    #[test]
    fn bad_urls_are_explained() {
        for (url, needle) in [
            ("sqlite://", "no path"),
            ("dynamodb://bad table", "not a valid DynamoDB table"),
            ("dynamodb://t?foo=1", "unknown parameter"),
            ("dynamodb://t?endpoint=ftp://x", "http://"),
            ("no-scheme", "scheme://"),
        ] {
            let err = resolve(&[env(&[("TAQUILLA_STORE", url)])]).unwrap_err();
            assert!(err.message.contains(needle), "{url}: {err}");
        }
    }
}
