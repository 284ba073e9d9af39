//! `GET|PUT /blobs/{key}?{signature}`: the local server's equivalent of S3
//! presigned URLs, for blobs kept under the data directory.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use taquilla_core::blobs::{BlobKey, SignedBlobs};

use crate::error::ApiError;
use crate::state::AppState;

fn access(state: &AppState) -> Result<&dyn SignedBlobs, ApiError> {
    state
        .signed_blobs
        .as_deref()
        .ok_or_else(|| ApiError::NotFound("this server does not serve blobs".into()))
}

/// Downloads a blob through a signed URL.
pub async fn get(
    State(state): State<AppState>,
    Path(key): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let key = BlobKey::parse(key)?;
    let blob = access(&state)?
        .serve_get(&key, query.as_deref().unwrap_or_default())
        .await?;
    let content_type = HeaderValue::from_str(&blob.meta.content_type)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, content_type);
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=300"),
    );
    Ok((StatusCode::OK, headers, blob.bytes).into_response())
}

/// Uploads a blob through a signed URL; answers 201 with what was recorded.
pub async fn put(
    State(state): State<AppState>,
    Path(key): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let key = BlobKey::parse(key)?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let meta = access(&state)?
        .accept_put(
            &key,
            query.as_deref().unwrap_or_default(),
            content_type,
            body.to_vec(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(meta)).into_response())
}
