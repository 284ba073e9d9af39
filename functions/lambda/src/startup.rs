//! What every function does before its first event, once per cold start:
//! logging, the configuration from the environment (with a warning for
//! each `TAQUILLA_*` variable nobody reads), the AWS adapters, then the
//! function's own wiring of them ([`start`]).
//!
//! A start that fails is logged once (`"<function> cannot start"`) and
//! reported to the Lambda Runtime API's `/runtime/init/error`, as Lambda's
//! runtime interface asks of a runtime that cannot initialise: the
//! invocation that started the process then fails with that message
//! (`errorType` [`INIT_ERROR`]) instead of a bare exit status, and the
//! function's error alarm and logs say what to fix. Then the process exits.

use std::time::Duration;

use taquilla_core::config::ConfigError;
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpStream;

use crate::config::{self, Adapters, FunctionConfig};

/// The `errorType` of a start refused for its configuration.
pub const INIT_ERROR: &str = "function_config_invalid";

/// The variable Lambda sets to the Runtime API's `host:port`.
const RUNTIME_API: &str = "AWS_LAMBDA_RUNTIME_API";

/// Where a runtime reports that it cannot start.
const INIT_ERROR_PATH: &str = "/2018-06-01/runtime/init/error";

/// How long reporting a failed start may take before the process exits
/// anyway (the Runtime API is local; it answers at once).
const REPORT_TIMEOUT: Duration = Duration::from_secs(2);

/// Starts `function` (its name, for the logs): logging, the configuration
/// from the process's environment, the adapters, and `wire`, which turns
/// them into what the handler needs. A failure is logged and reported to
/// the Runtime API (see the module docs), then returned for `main` to end
/// the process with.
pub async fn start<T>(
    function: &str,
    wire: impl FnOnce(FunctionConfig, Adapters) -> Result<T, ConfigError>,
) -> Result<T, lambda_runtime::Error> {
    crate::init_logging();
    match prepare(wire).await {
        Ok(ready) => Ok(ready),
        Err(error) => {
            tracing::error!(%error, "{function} cannot start");
            report_init_error(&error).await;
            Err(error.into())
        }
    }
}

async fn prepare<T>(
    wire: impl FnOnce(FunctionConfig, Adapters) -> Result<T, ConfigError>,
) -> Result<T, ConfigError> {
    let config = config::from_env(std::env::vars())?;
    for name in &config.unknown {
        tracing::warn!(%name, "unknown TAQUILLA_* variable ignored");
    }
    let adapters = config::adapters(&config.settings).await?;
    wire(config, adapters)
}

/// Posts `error` to `/runtime/init/error`; outside Lambda (no Runtime API
/// named) there is nobody to tell. A report that fails is logged: the
/// process exits either way.
async fn report_init_error(error: &ConfigError) {
    let Ok(address) = std::env::var(RUNTIME_API) else {
        return;
    };
    let diagnostic = lambda_runtime::Diagnostic {
        error_type: INIT_ERROR.to_owned(),
        error_message: error.to_string(),
    };
    let body = serde_json::to_vec(&diagnostic).unwrap_or_default();
    match tokio::time::timeout(REPORT_TIMEOUT, post(&address, INIT_ERROR_PATH, &body)).await {
        Ok(Ok(status)) if (200..300).contains(&status) => {}
        Ok(Ok(status)) => tracing::warn!(status, "the Runtime API refused the start's failure"),
        Ok(Err(reason)) => tracing::warn!(%reason, "the start's failure could not be reported"),
        Err(_) => tracing::warn!("the Runtime API did not answer the start's failure in time"),
    }
}

/// One HTTP/1.1 POST of a JSON `body` to `path` at the Runtime API's
/// `address` (`host:port`, plain HTTP on the local host); its status code.
/// Written out here rather than with an HTTP client: it is the one request
/// a function makes before `lambda_runtime` runs, and only when it stops.
async fn post(address: &str, path: &str, body: &[u8]) -> std::io::Result<u16> {
    let mut stream = TcpStream::connect(address).await?;
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Lambda-Runtime-Function-Error-Type: {INIT_ERROR}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    let mut status_line = String::new();
    BufReader::new(stream).read_line(&mut status_line).await?;
    // "HTTP/1.1 202 Accepted"
    status_line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("not an HTTP answer: {status_line:?}"),
            )
        })
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncReadExt as _;
    use tokio::net::TcpListener;

    use super::*;

    /// A one-connection server answering `answer`; what it was sent,
    /// read until it ends with `until`.
    async fn server(
        answer: &'static [u8],
        until: &'static [u8],
    ) -> (String, tokio::task::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let served = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = Vec::new();
            let mut buf = [0_u8; 1024];
            while !request.ends_with(until) {
                let n = socket.read(&mut buf).await.unwrap();
                assert!(n > 0, "the request ended early");
                request.extend_from_slice(&buf[..n]);
            }
            socket.write_all(answer).await.unwrap();
            String::from_utf8(request).unwrap()
        });
        (address, served)
    }

    #[tokio::test]
    async fn the_failure_is_posted_where_and_as_lambda_reads_it() {
        let body = br#"{"errorType":"function_config_invalid","errorMessage":"m"}"#;
        let (address, served) =
            server(b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n", body).await;
        assert_eq!(post(&address, INIT_ERROR_PATH, body).await.unwrap(), 202);
        let request = served.await.unwrap();
        assert!(
            request.starts_with("POST /2018-06-01/runtime/init/error HTTP/1.1\r\n"),
            "{request}"
        );
        assert!(
            request.contains("\r\nLambda-Runtime-Function-Error-Type: function_config_invalid\r\n"),
            "{request}"
        );
        assert!(request.contains(&format!("\r\nContent-Length: {}\r\n", body.len())));
    }

    #[tokio::test]
    async fn an_answer_that_is_no_http_is_an_error() {
        let (address, served) = server(b"nonsense\n", b"{}").await;
        let error = post(&address, INIT_ERROR_PATH, b"{}").await.unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidData);
        assert!(error.to_string().contains("nonsense"), "{error}");
        served.await.unwrap();
    }
}
