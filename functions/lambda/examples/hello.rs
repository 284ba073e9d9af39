//! A hello-world `lambda_http` function: the baseline the cold-start bench
//! (`tests/benches/lambda_cold_start.rs`) measures Taquilla's functions
//! against, built with the same profile in the same run. It answers every
//! request with `hello` and does nothing else.

use lambda_http::{Body, Error, Request, Response, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::run(service_fn(|_request: Request| async {
        Ok::<_, Error>(Response::new(Body::from("hello")))
    }))
    .await
}
