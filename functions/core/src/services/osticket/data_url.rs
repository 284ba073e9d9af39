//! RFC 2397 `data:` URLs: `data:[<media type>][;base64],<data>`.

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use thiserror::Error;

/// A decoded data URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataUrl {
    /// Lower-case `type/subtype`; `text/plain` when the URL names none.
    pub media_type: String,
    /// Lower-case charset parameter, if any.
    pub charset: Option<String>,
    pub bytes: Vec<u8>,
}

/// Why a data URL was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum DataUrlError {
    #[error("malformed data URL: {0}")]
    Malformed(&'static str),
    #[error("malformed data URL: the base64 data does not decode")]
    BadBase64,
    #[error("unsupported charset {0:?} (use utf-8)")]
    Charset(String),
    #[error("the text is not valid {0}")]
    BadText(&'static str),
}

impl DataUrl {
    /// The content as text, decoded from its charset (UTF-8, US-ASCII or
    /// ISO-8859-1/Windows-1252 as Latin-1; UTF-8 when none is named).
    pub fn text(&self) -> Result<String, DataUrlError> {
        match self.charset.as_deref() {
            None | Some("utf-8" | "utf8" | "us-ascii" | "ascii") => {
                String::from_utf8(self.bytes.clone()).map_err(|_| DataUrlError::BadText("UTF-8"))
            }
            Some("iso-8859-1" | "latin1" | "latin-1" | "windows-1252") => {
                Ok(self.bytes.iter().map(|&b| char::from(b)).collect())
            }
            Some(other) => Err(DataUrlError::Charset(other.to_owned())),
        }
    }
}

/// Standard base64, padded or not (clients differ).
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn percent_decode(data: &str) -> Result<Vec<u8>, DataUrlError> {
    let bytes = data.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hi = bytes.get(i + 1).copied().and_then(hex_digit);
            let lo = bytes.get(i + 2).copied().and_then(hex_digit);
            match (hi, lo) {
                (Some(hi), Some(lo)) => out.push(hi << 4 | lo),
                _ => {
                    return Err(DataUrlError::Malformed(
                        "a % not followed by two hex digits",
                    ));
                }
            }
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Ok(out)
}

/// Parses a `data:` URL.
pub fn parse_data_url(url: &str) -> Result<DataUrl, DataUrlError> {
    let rest = url
        .get(..5)
        .filter(|p| p.eq_ignore_ascii_case("data:"))
        .map(|_| &url[5..])
        .ok_or(DataUrlError::Malformed("it does not start with data:"))?;
    let (meta, data) = rest
        .split_once(',')
        .ok_or(DataUrlError::Malformed("no comma before the data"))?;
    let mut params = meta.split(';').map(str::trim);
    let media_type = params.next().unwrap_or_default().to_ascii_lowercase();
    let media_type = if media_type.is_empty() {
        "text/plain".to_owned()
    } else {
        let valid = media_type.split_once('/').is_some_and(|(t, s)| {
            !t.is_empty()
                && !s.is_empty()
                && media_type
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"/+-.".contains(&b))
        });
        if !valid {
            return Err(DataUrlError::Malformed(
                "the media type is not type/subtype",
            ));
        }
        media_type
    };
    let mut base64 = false;
    let mut charset = None;
    for param in params {
        if param.eq_ignore_ascii_case("base64") {
            base64 = true;
        } else if let Some((name, value)) = param.split_once('=') {
            if name.trim().eq_ignore_ascii_case("charset") {
                charset = Some(value.trim().trim_matches('"').to_ascii_lowercase());
            }
        } else if !param.is_empty() {
            return Err(DataUrlError::Malformed("a parameter without a value"));
        }
    }
    let bytes = if base64 {
        let compact: String = percent_decode(data)?
            .into_iter()
            .filter(|b| !b.is_ascii_whitespace())
            .map(char::from)
            .collect();
        BASE64
            .decode(compact)
            .map_err(|_| DataUrlError::BadBase64)?
    } else {
        percent_decode(data)?
    };
    Ok(DataUrl {
        media_type,
        charset,
        bytes,
    })
}
