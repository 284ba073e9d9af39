//! Signed query strings for the URLs the local server answers in place of
//! presigned S3 URLs.
//!
//! A URL `{base}/blobs/{key}?{query}` carries its expiry, for uploads the
//! declared [`UploadSpec`], and an HMAC-SHA256 over all of that plus the
//! method and the blob key. Changing any of them, or using the URL after it
//! expires, yields [`BlobError::InvalidSignature`]. Pure: the caller passes
//! the current time.
//!
//! Query parameters: `expires` (epoch seconds), for uploads `content_type`
//! (percent-encoded), `size` and `sha256`, and last `sig` (hex).

use std::fmt;

use hmac::{Hmac, Mac as _};
use sha2::Sha256;

use super::{BlobError, BlobKey, UploadSpec};

type HmacSha256 = Hmac<Sha256>;

/// What a signed URL allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignedMethod {
    /// Download the blob.
    Get,
    /// Upload exactly the declared content.
    Put,
}

impl SignedMethod {
    /// The HTTP method, as signed.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            SignedMethod::Get => "GET",
            SignedMethod::Put => "PUT",
        }
    }
}

/// Signs and verifies blob URL query strings with one secret key.
#[derive(Clone)]
pub struct UrlSigner {
    key: Vec<u8>,
}

impl fmt::Debug for UrlSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UrlSigner").finish_non_exhaustive()
    }
}

impl UrlSigner {
    /// A signer with this secret key (any length; 32 random bytes is right).
    #[must_use]
    pub fn new(key: impl Into<Vec<u8>>) -> Self {
        Self { key: key.into() }
    }

    /// The query string of a download URL valid until `expires_at` (epoch seconds).
    #[must_use]
    pub fn sign_get(&self, blob: &BlobKey, expires_at: i64) -> String {
        let sig = self.signature(SignedMethod::Get, blob, expires_at, None);
        format!("expires={expires_at}&sig={sig}")
    }

    /// The query string of an upload URL for exactly `spec`, valid until `expires_at`.
    #[must_use]
    pub fn sign_put(&self, blob: &BlobKey, spec: &UploadSpec, expires_at: i64) -> String {
        let sig = self.signature(SignedMethod::Put, blob, expires_at, Some(spec));
        format!(
            "expires={expires_at}&content_type={}&size={}&sha256={}&sig={sig}",
            percent_encode(&spec.content_type),
            spec.size,
            spec.sha256
        )
    }

    /// Checks a download URL's query for `blob` at `now` (epoch seconds).
    pub fn verify_get(&self, blob: &BlobKey, query: &str, now: i64) -> Result<(), BlobError> {
        let params = Params::parse(query)?;
        self.check(SignedMethod::Get, blob, &params, None, now)
    }

    /// Checks an upload URL's query for `blob` at `now` and returns the
    /// upload it allows.
    pub fn verify_put(
        &self,
        blob: &BlobKey,
        query: &str,
        now: i64,
    ) -> Result<UploadSpec, BlobError> {
        let params = Params::parse(query)?;
        let spec = UploadSpec {
            content_type: params
                .content_type
                .clone()
                .ok_or(BlobError::InvalidSignature)?,
            size: params.size.ok_or(BlobError::InvalidSignature)?,
            sha256: params.sha256.clone().ok_or(BlobError::InvalidSignature)?,
        };
        self.check(SignedMethod::Put, blob, &params, Some(&spec), now)?;
        Ok(spec)
    }

    fn check(
        &self,
        method: SignedMethod,
        blob: &BlobKey,
        params: &Params,
        spec: Option<&UploadSpec>,
        now: i64,
    ) -> Result<(), BlobError> {
        let expected_fields = if spec.is_some() { 5 } else { 2 };
        if params.count != expected_fields {
            return Err(BlobError::InvalidSignature);
        }
        let sig = hex::decode(&params.sig).map_err(|_| BlobError::InvalidSignature)?;
        // `verify_slice` compares in constant time.
        self.mac(method, blob, params.expires, spec)
            .verify_slice(&sig)
            .map_err(|_| BlobError::InvalidSignature)?;
        if now > params.expires {
            return Err(BlobError::InvalidSignature);
        }
        Ok(())
    }

    fn signature(
        &self,
        method: SignedMethod,
        blob: &BlobKey,
        expires_at: i64,
        spec: Option<&UploadSpec>,
    ) -> String {
        hex::encode(
            self.mac(method, blob, expires_at, spec)
                .finalize()
                .into_bytes(),
        )
    }

    /// The MAC over every signed field, each length-prefixed so that no two
    /// different requests produce the same input.
    fn mac(
        &self,
        method: SignedMethod,
        blob: &BlobKey,
        expires_at: i64,
        spec: Option<&UploadSpec>,
    ) -> HmacSha256 {
        // HMAC takes keys of any length, so this never fails.
        let mut mac = HmacSha256::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
        let expires = expires_at.to_string();
        let mut fields = vec![
            "taquilla-blob-url-v1",
            method.as_str(),
            blob.as_str(),
            &expires,
        ];
        let size;
        if let Some(spec) = spec {
            size = spec.size.to_string();
            fields.extend([
                spec.content_type.as_str(),
                size.as_str(),
                spec.sha256.as_str(),
            ]);
        }
        for field in fields {
            mac.update(&(field.len() as u64).to_be_bytes());
            mac.update(field.as_bytes());
        }
        mac
    }
}

/// The parameters of a signed query; any unknown, repeated or malformed one
/// makes the whole query invalid.
#[derive(Debug, Default)]
struct Params {
    expires: i64,
    sig: String,
    content_type: Option<String>,
    size: Option<u64>,
    sha256: Option<String>,
    count: usize,
}

impl Params {
    fn parse(query: &str) -> Result<Self, BlobError> {
        let bad = || BlobError::InvalidSignature;
        let mut params = Params::default();
        let (mut expires, mut sig) = (None, None);
        for pair in query.split('&') {
            let (name, value) = pair.split_once('=').ok_or_else(bad)?;
            let value = percent_decode(value).ok_or_else(bad)?;
            let fresh = match name {
                "expires" => expires
                    .replace(value.parse::<i64>().map_err(|_| bad())?)
                    .is_none(),
                "sig" => sig.replace(value).is_none(),
                "content_type" => params.content_type.replace(value).is_none(),
                "size" => params
                    .size
                    .replace(value.parse().map_err(|_| bad())?)
                    .is_none(),
                "sha256" => params.sha256.replace(value).is_none(),
                _ => false,
            };
            if !fresh {
                return Err(bad());
            }
            params.count += 1;
        }
        params.expires = expires.ok_or_else(bad)?;
        params.sig = sig.ok_or_else(bad)?;
        Ok(params)
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `%XX` escapes (and `+` as a space); `None` if malformed or not UTF-8.
fn percent_decode(value: &str) -> Option<String> {
    let mut out = Vec::with_capacity(value.len());
    let mut bytes = value.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'%' => {
                let hi = char::from(bytes.next()?).to_digit(16)?;
                let lo = char::from(bytes.next()?).to_digit(16)?;
                out.push(u8::try_from(hi * 16 + lo).ok()?);
            }
            b'+' => out.push(b' '),
            _ => out.push(b),
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blobs::sha256_hex;

    fn key() -> BlobKey {
        BlobKey::parse("demo/att/report.pdf").unwrap()
    }

    fn spec() -> UploadSpec {
        UploadSpec {
            content_type: "text/plain; charset=utf-8".into(),
            size: 5,
            sha256: sha256_hex(b"hello"),
        }
    }

    #[test]
    fn a_signed_get_verifies_until_it_expires() {
        let signer = UrlSigner::new(b"secret".to_vec());
        let query = signer.sign_get(&key(), 1_000);
        assert_eq!(signer.verify_get(&key(), &query, 999), Ok(()));
        assert_eq!(signer.verify_get(&key(), &query, 1_000), Ok(()));
        assert_eq!(
            signer.verify_get(&key(), &query, 1_001),
            Err(BlobError::InvalidSignature)
        );
    }

    #[test]
    fn a_signed_put_returns_the_declared_upload() {
        let signer = UrlSigner::new(b"secret".to_vec());
        let query = signer.sign_put(&key(), &spec(), 1_000);
        assert!(query.contains("content_type=text%2Fplain%3B%20charset%3Dutf-8"));
        assert_eq!(signer.verify_put(&key(), &query, 10), Ok(spec()));
    }

    #[test]
    fn altered_urls_are_refused() {
        let signer = UrlSigner::new(b"secret".to_vec());
        let get = signer.sign_get(&key(), 1_000);
        let put = signer.sign_put(&key(), &spec(), 1_000);
        let other = BlobKey::parse("demo/att/other.pdf").unwrap();
        let refused = [
            signer.verify_get(&other, &get, 0),
            signer.verify_get(&key(), &get.replace("1000", "9999"), 0),
            signer.verify_get(&key(), &format!("{get}&x=1"), 0),
            signer.verify_get(&key(), &format!("{get}&expires=1000"), 0),
            signer.verify_get(&key(), "", 0),
            signer.verify_get(&key(), "expires=1000&sig=zz", 0),
            signer.verify_get(&key(), &put, 0),
            UrlSigner::new(b"other".to_vec()).verify_get(&key(), &get, 0),
            signer.verify_put(&key(), &get, 0).map(|_| ()),
            signer
                .verify_put(&key(), &put.replace("size=5", "size=6"), 0)
                .map(|_| ()),
            signer
                .verify_put(&key(), &put.replace("plain", "html"), 0)
                .map(|_| ()),
        ];
        for (i, result) in refused.into_iter().enumerate() {
            assert_eq!(result, Err(BlobError::InvalidSignature), "case {i}");
        }
    }

    #[test]
    fn percent_encoding_round_trips() {
        for s in ["text/plain; charset=\"utf-8\"", "a+b&c=d%", ""] {
            assert_eq!(percent_decode(&percent_encode(s)).as_deref(), Some(s));
        }
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%4"), None);
    }

    #[test]
    fn the_key_never_prints() {
        let signer = UrlSigner::new(b"secret".to_vec());
        assert!(!format!("{signer:?}").contains("secret"));
    }
}
