//! Gathers the configuration layers (file, environment, flags) and resolves
//! them with `taquilla_core::config`.

use std::path::Path;

use anyhow::Context as _;
use taquilla_core::config::{self, Layer, Settings};

use crate::args::{ConfigArgs, ServeArgs};

/// The settings for this process: defaults < TOML file < environment < flags;
/// also the `TAQUILLA_*` variables that name no setting, to warn about once
/// logging is up.
pub fn load(
    args: &ConfigArgs,
    serve: Option<&ServeArgs>,
) -> anyhow::Result<(Settings, Vec<String>)> {
    let mut layers = Vec::new();
    if let Some(path) = &args.config {
        layers.push(read_file(path)?);
    }
    let (env, unknown) = Layer::from_env(std::env::vars());
    layers.push(env);
    let mut flags = Layer::new("command line");
    if let Some(dir) = &args.data_dir {
        flags.insert("data_dir", "--data-dir", dir.display().to_string());
    }
    if let Some(serve) = serve {
        if let Some(port) = serve.port {
            flags.insert("port", "--port", port.to_string());
        }
        if let Some(bind) = serve.bind {
            flags.insert("bind", "--bind", bind.to_string());
        }
    }
    layers.push(flags);
    Ok((config::resolve(&layers)?, unknown))
}

fn read_file(path: &Path) -> anyhow::Result<Layer> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the configuration file {}", path.display()))?;
    Ok(Layer::from_toml(&path.display().to_string(), &text)?)
}
